using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Langfuse.Agents.Relay.Internal.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// One running relay: the exclusive lock on its buffer directory, the durable queue, the group-commit writer, the
/// forwarder (the SDK's, unchanged) and the HTTP endpoints. Started by the program and, in-process, by tests.
/// Stopping it stops accepting, finishes the group commit in flight, stops the forwarder and releases the lock; what
/// is not forwarded stays on disk for the next start.
/// </summary>
internal sealed class RelayHost : IAsyncDisposable
{
    public const string LockFileName = "relay.lock";

    private const string ReadyTag = "ready";

    private readonly WebApplication _app;
    private readonly RelayCore _core;
    private int _disposed;

    private RelayHost(WebApplication app, RelayCore core, Uri baseUrl, string listeningOn)
    {
        _app = app;
        _core = core;
        BaseUrl = baseUrl;
        ListeningOn = listeningOn;
    }

    /// <summary>A URL a local client can use (port 0 becomes the real port; an any-address bind becomes localhost).</summary>
    public Uri BaseUrl { get; }

    /// <summary>What the relay really binds, for the start-up line: <c>http://[::]:8080</c> is not <c>localhost</c>.</summary>
    public string ListeningOn { get; }

    /// <summary>True when some bound address is not loopback: then <c>/relay/status</c> needs credentials.</summary>
    public bool ListensBeyondLoopback => _core.ListensBeyondLoopback;

    public string BufferDirectory => _core.Options.BufferDirectory;

    public string DeadLetterPath => _core.DeadLetters.Path;

    internal RelayMetrics Metrics => _core.Metrics;

    internal IngressBodies Bodies => _core.Bodies;

    internal GroupCommitWriter Writer => _core.Writer;

    internal LangfuseMetrics ForwarderMetrics => _core.ForwarderMetrics;

    internal IDurableQueue Queue => _core.Queue;

    /// <summary>Starts the relay with options given in code (tests); they are validated as read ones are.</summary>
    /// <param name="options">What to relay, and where to keep it.</param>
    /// <param name="args">Command-line arguments (ASP.NET Core's: <c>--urls</c> and the like).</param>
    /// <param name="fileSystem">The durable queue's file operations (tests inject a full disk).</param>
    /// <param name="configureLogging">Replaces the default logging (stderr), for tests.</param>
    /// <param name="timeProvider">The clock (body time limit, record times, retries); the system clock by default.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="OptionsValidationException">The options are invalid (every problem is listed).</exception>
    /// <exception cref="RelayStartException">The buffer directory is unusable or locked.</exception>
    public static Task<RelayHost> StartAsync(
        RelayOptions options,
        string[] args,
        IDurableFileSystem? fileSystem = null,
        Action<ILoggingBuilder>? configureLogging = null,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default) =>
        StartCoreAsync(args, environment: null, _ => options, fileSystem, configureLogging, timeProvider, cancellationToken);

    /// <summary>
    /// Starts the relay with options read from configuration: the <c>Relay</c> section of appsettings.json, the
    /// environment and the command line, with the <c>LANGFUSE_*</c> variables mapped onto it.
    /// </summary>
    /// <param name="args">Command-line arguments (<c>--urls</c>, <c>--Relay:BufferMaxBytes=...</c>).</param>
    /// <param name="environment">Reads an environment variable.</param>
    /// <param name="timeProvider">The clock; the system clock by default.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="OptionsValidationException">The configuration is invalid (every problem is listed).</exception>
    /// <exception cref="RelayStartException">The buffer directory is unusable or locked.</exception>
    public static Task<RelayHost> StartAsync(string[] args, Func<string, string?> environment, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default) =>
        StartCoreAsync(args, environment, configuration => RelayOptions.Read(configuration, environment, args), null, null, timeProvider, cancellationToken);

    private static async Task<RelayHost> StartCoreAsync(
        string[] args,
        Func<string, string?>? environment,
        Func<IConfiguration, RelayOptions> read,
        IDurableFileSystem? fileSystem,
        Action<ILoggingBuilder>? configureLogging,
        TimeProvider? timeProvider,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (environment is not null)
        {
            RelayConfiguration.AddLangfuseVariables(builder.Configuration, environment);
        }

        // Read once: logging and Kestrel's limit need the values before the container exists; validation comes below.
        var options = read(builder.Configuration);

        // stdout carries one line (the address) for whoever started the relay; logs go to stderr.
        configureLogging ??= logging => DefaultLogging(logging, options.Upstream.Debug);
        builder.Logging.ClearProviders();
        configureLogging(builder.Logging);

        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]) && string.IsNullOrEmpty(builder.Configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(RelayOptions.DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = Math.Max(options.MaxOtlpBodyBytes, RelayOptions.MaxIngestionBodyBytes) + 1;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        builder.Services.RemoveAll<TimeProvider>();
        builder.Services.AddSingleton(timeProvider ?? TimeProvider.System);
        builder.Services.AddSingleton<IValidateOptions<RelayOptions>, RelayOptionsValidator>();
        builder.Services.AddSingleton<IOptionsFactory<RelayOptions>>(sp => new RelayOptionsFactory(
            options,
            sp.GetServices<IConfigureOptions<RelayOptions>>(),
            sp.GetServices<IPostConfigureOptions<RelayOptions>>(),
            sp.GetServices<IValidateOptions<RelayOptions>>()));
        builder.Services.AddOptions<RelayOptions>().ValidateOnStart();
        var files = fileSystem ?? DurableFileSystem.Instance;
        builder.Services.AddSingleton(sp => RelayCore.Open(
            sp.GetRequiredService<IOptions<RelayOptions>>().Value,
            files,
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService(static sp => sp.GetRequiredService<RelayCore>());
        builder.Services.AddHealthChecks().AddCheck<BufferHealthCheck>("buffer", tags: [ReadyTag]);
        builder.Services.ConfigureHttpJsonOptions(static o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, RelayJsonContext.Default));

        var app = builder.Build();
        RelayCore core;
        try
        {
            // Validated before anything touches the buffer directory (ValidateOnStart would only run at app start).
            _ = app.Services.GetRequiredService<IOptions<RelayOptions>>().Value;
            core = app.Services.GetRequiredService<RelayCore>();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        Map(app, core);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Urls.FirstOrDefault(static u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? app.Urls.First();
        core.ListensBeyondLoopback = app.Urls.Any(static u => !IsLoopback(u));
        var listening = string.Join(", ", app.Urls) + (core.ListensBeyondLoopback ? " (not only loopback: reachable from other machines; /relay/status needs credentials)" : "");
        var local = address.Replace("://[::]", "://localhost", StringComparison.Ordinal).Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal);
        return new RelayHost(app, core, new Uri(local), listening);
    }

    /// <summary>Whether a bound URL's host is a loopback address (or <c>localhost</c>); <c>[::]</c>, <c>0.0.0.0</c> and names are not.</summary>
    internal static bool IsLoopback(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }

        var host = uri.Host.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
               (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
    }

    private static void DefaultLogging(ILoggingBuilder logging, bool debug)
    {
        logging.AddSimpleConsole(static o => o.SingleLine = true);
        logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(static o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(debug ? LogLevel.Debug : LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("System.Net.Http", LogLevel.Warning);
    }

    /// <summary>Completes when the host is asked to stop (SIGTERM, Ctrl+C).</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            try
            {
                await _app.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Stragglers past the budget: what they sent is either on disk or was never acknowledged.
            }
        }

        await _app.DisposeAsync(); // disposes the core too (the container owns it), after the server has stopped
    }

    private static void Map(WebApplication app, RelayCore core)
    {
        var endpoints = core.Endpoints;
        var required = new ClientAuthFilter(core.Credentials, core.Metrics, ClientAccess.Required, () => core.ListensBeyondLoopback);
        app.MapPost(RelayEndpoints.OtlpPath, (Func<HttpContext, Task<IResult>>)endpoints.OtlpAsync).AddEndpointFilter(required);
        app.MapPost(RelayEndpoints.IngestionPath, (Func<HttpContext, Task<IResult>>)endpoints.IngestionAsync)
            .AddEndpointFilter(new DeclaredSizeFilter(RelayOptions.MaxIngestionBodyBytes, RelayEndpoints.IngestionTooLarge, core.Metrics)) // 413 before auth, as Langfuse
            .AddEndpointFilter(required);
        // Liveness runs no check (Langfuse's health answers OK while the process serves); readiness checks the buffer.
        app.MapHealthChecks(RelayEndpoints.HealthPath, new HealthCheckOptions { Predicate = static _ => false, ResponseWriter = RelayEndpoints.WriteHealthAsync });
        app.MapHealthChecks(RelayEndpoints.ReadyPath, new HealthCheckOptions
        {
            Predicate = static check => check.Tags.Contains(ReadyTag),
            ResponseWriter = RelayEndpoints.WriteReadyAsync,
            ResultStatusCodes = { [HealthStatus.Healthy] = 200, [HealthStatus.Degraded] = 503, [HealthStatus.Unhealthy] = 503 },
        });
        app.MapGet(RelayEndpoints.StatusPath, core.Status)
            .AddEndpointFilter(new ClientAuthFilter(core.Credentials, core.Metrics, ClientAccess.RequiredBeyondLoopback, () => core.ListensBeyondLoopback));
        app.MapFallback(RelayEndpoints.NotFound);
    }
}
