using Langfuse.Agents.AspNetCore;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configures how incoming requests continue their caller's Langfuse trace.</summary>
public static class LangfuseTraceContextServiceCollectionExtensions
{
    /// <summary>Configures <c>app.UseLangfuseTraceContext()</c> (see <see cref="LangfuseTraceContextOptions"/>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddLangfuseTraceContext(this IServiceCollection services, Action<LangfuseTraceContextOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<LangfuseTraceContextOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return services;
    }
}
