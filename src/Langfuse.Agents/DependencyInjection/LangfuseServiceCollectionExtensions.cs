using Langfuse.Agents;
using Langfuse.Agents.Internal.Configuration;
using Langfuse.Agents.Internal.Http;
using Langfuse.Agents.Internal.Tracing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Langfuse.Agents with a service collection.</summary>
public static class LangfuseServiceCollectionExtensions
{
    /// <summary>The configuration section read by <see cref="AddLangfuse(IServiceCollection, IConfiguration, Action{LangfuseOptions}?)"/>.</summary>
    public const string ConfigurationSectionName = "Langfuse";

    /// <summary>
    /// Registers a singleton <see cref="LangfuseTracer"/> configured from <c>LANGFUSE_*</c> environment variables, a
    /// named <see cref="HttpClient"/> for it, and a hosted service that flushes it when the host stops.
    /// Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddLangfuse(this IServiceCollection services) => services.AddLangfuse(configure: null);

    /// <summary>As <see cref="AddLangfuse(IServiceCollection)"/>, then applies <paramref name="configure"/> over the environment.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code; applied last.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddLangfuse(this IServiceCollection services, Action<LangfuseOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddCore(services);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return services;
    }

    /// <summary>
    /// As <see cref="AddLangfuse(IServiceCollection)"/>, reading the <c>Langfuse</c> section of
    /// <paramref name="configuration"/> over the environment (or <paramref name="configuration"/> itself when it is that
    /// section), then applying <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The application's configuration, or its <c>Langfuse</c> section.</param>
    /// <param name="configure">Sets options in code; applied last.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddLangfuse(this IServiceCollection services, IConfiguration configuration, Action<LangfuseOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services);
        var section = configuration is IConfigurationSection { Key: ConfigurationSectionName } own ? own : configuration.GetSection(ConfigurationSectionName);
        services.Configure<LangfuseOptions>(options =>
        {
            LangfuseSettingsReader.Apply(options, section, out _); // problems stay on the options, reported at start-up
        });
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return services;
    }

    private static void AddCore(IServiceCollection services)
    {
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<LangfuseOptions>, EnvironmentConfigureOptions>());
        // The framework logs four Information lines per request (and a stack trace per failed attempt) for every named
        // client; the SDK's own requests are its business, reported by its own outage lines instead.
        services.AddHttpClient(LangfuseApiClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan).RemoveAllLoggers();
        // The same builder as `new LangfuseTracer(options)`, with the host's logging, clock and named HttpClient.
        services.TryAddSingleton(static provider => new LangfuseTracer(
            new TracerCoreBuilder(provider.GetRequiredService<IOptions<LangfuseOptions>>().Value)
            {
                LoggerFactory = provider.GetService<ILoggerFactory>(),
                HttpClient = provider.GetRequiredService<IHttpClientFactory>().CreateClient(LangfuseApiClient.HttpClientName),
                TimeProvider = provider.GetService<TimeProvider>(),
            }.Build()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LangfuseHostedService>());
    }

    /// <summary>Environment variables first, so configuration sections and code override them.</summary>
    private sealed class EnvironmentConfigureOptions : IConfigureOptions<LangfuseOptions>
    {
        public void Configure(LangfuseOptions options)
        {
            LangfuseSettingsReader.Apply(options, static name => Environment.GetEnvironmentVariable(name), out _);
        }
    }
}
