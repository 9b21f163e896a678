using System.Reflection;
using Langfuse.Agents.Internal.Configuration;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Internal.Http;
using Langfuse.Agents.Internal.Pipeline;
using Langfuse.Agents.Internal.Timing;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Tracing;

/// <summary>
/// The one composition root of a tracer: checks the options, decides whether tracing can work, and wires the typed
/// client, the sender, the durable buffer and its forwarder, the exporter and the pipeline. Both
/// <c>new LangfuseTracer(options)</c> and <c>services.AddLangfuse()</c> build through it; tests and benchmarks set
/// the collaborators below instead of reaching into fields.
/// </summary>
internal sealed class TracerCoreBuilder
{
    /// <param name="options">The settings; copied, so later changes by the caller do not reach the tracer.</param>
    public TracerCoreBuilder(LangfuseOptions? options)
    {
        Options = options?.Clone() ?? new LangfuseOptions();
    }

    public LangfuseOptions Options { get; }

    /// <summary>Where the SDK logs; without one, warnings go to standard error.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The HttpClient to send with (a named client under DI); without one the core creates and owns one.</summary>
    public HttpClient? HttpClient { get; set; }

    public TimeProvider? TimeProvider { get; set; }

    /// <summary>A Langfuse API to use instead of the HTTP client (tests); keys are then optional.</summary>
    public ILangfuseApi? Api { get; set; }

    public IDurableFileSystem? DurableFileSystem { get; set; }

    public IdleProbe? Probe { get; set; }

    /// <summary>An exporter to use instead of the real one (benchmarks of the caller's path).</summary>
    public IBatchExporter? Exporter { get; set; }

    /// <summary>Leaves the export queue out of the processor chain (a benchmark that puts another queue in its place).</summary>
    public bool SkipExportQueue { get; set; }

    /// <summary>The SDK's version, sent as <c>x-langfuse-sdk-version</c>.</summary>
    public static string SdkVersion { get; } =
        typeof(LangfuseTracer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(LangfuseTracer).Assembly.GetName().Version?.ToString(3)
        ?? "0.0.0";

    /// <summary>Builds the core. Never throws: what cannot work is reported and leaves tracing off.</summary>
    public TracerCore Build()
    {
        var options = Options;
        var timeProvider = TimeProvider ?? System.TimeProvider.System;
        var owned = new List<IDisposable>();
        var loggerFactory = LoggerFactory;
        if (loggerFactory is null)
        {
            var stderr = new StderrLoggerFactory(options.Debug);
            owned.Add(stderr);
            loggerFactory = stderr;
        }
        else
        {
            // The application's logs get no stack traces from the SDK unless LANGFUSE_DEBUG asks for them.
            loggerFactory = new QuietLoggerFactory(loggerFactory, options.Debug);
        }

        var logger = loggerFactory.CreateLogger(Log.CategoryName);
        SettingsReport settings;
        try
        {
            settings = LangfuseOptionsValidator.Normalize(options);
        }
        catch (Exception ex)
        {
            Log.LoopError(logger, ex);
            settings = new SettingsReport([], "its settings could not be checked");
        }

        if (settings.Replaced.Count > 0)
        {
            Log.SettingsReplaced(logger, settings.Replaced.Count, string.Join(" | ", settings.Replaced));
        }

        var metrics = new LangfuseMetrics();
        var sampleRate = double.IsFinite(options.SampleRate) ? Math.Clamp(options.SampleRate, 0, 1) : 1;
        var serviceName = ResolveServiceName(options.ServiceName);
        var instanceId = Guid.NewGuid().ToString();
        ExportPipeline? pipeline = null;
        IDurableQueue? durable = null;
        DurableForwarder? forwarder = null;
        try
        {
            if (CanExport(options, settings, logger))
            {
                (pipeline, durable, forwarder) = Wire(options, timeProvider, loggerFactory, metrics, serviceName, instanceId, owned);
                Log.TracingOn(logger, Redaction.Url(options.BaseUrl), options.IngestionProtocol, sampleRate);
            }
        }
        catch (Exception ex)
        {
            // Never let the SDK's own start-up break the host.
            Log.LoopError(logger, ex);
            pipeline = null;
        }

        List<LangfuseProcessor> processors = [new SamplingProcessor()];
        processors.AddRange(options.Processors.Where(static p => p is not null));
        if (options.Capture is { } capture)
        {
            processors.Add(new CaptureProcessor(capture));
        }

        if (pipeline is not null && !SkipExportQueue)
        {
            processors.Add(new ExportProcessor(pipeline));
        }

        return new TracerCore
        {
            Processors = new ProcessorChain(processors, metrics, countDrops: pipeline is not null, logger),
            TimeProvider = timeProvider,
            Metrics = metrics,
            Pipeline = pipeline,
            Shutdown = new TracerShutdown(pipeline, durable, forwarder, timeProvider, options.ShutdownTimeout),
            SampleRate = sampleRate,
            Environment = options.Environment,
            Release = options.Release,
            PrivacyMode = options.PrivacyMode,
            ServiceName = serviceName,
            InstanceId = instanceId,
            Owned = owned,
        };
    }

    private bool CanExport(LangfuseOptions options, SettingsReport settings, ILogger logger)
    {
        if (settings.CannotWork is { } reason)
        {
            Log.TracingCannotWork(logger, reason);
            return false;
        }

        if (!options.TracingEnabled)
        {
            Log.TracingOff(logger, "LANGFUSE_TRACING_ENABLED is false");
            return false;
        }

        if (Api is null && (string.IsNullOrWhiteSpace(options.PublicKey) || string.IsNullOrWhiteSpace(options.SecretKey)))
        {
            Log.TracingOff(logger, "LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not set");
            return false;
        }

        return true;
    }

    private (ExportPipeline Pipeline, IDurableQueue? Durable, DurableForwarder? Forwarder) Wire(
        LangfuseOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory, LangfuseMetrics metrics,
        string serviceName, string instanceId, List<IDisposable> owned)
    {
        var api = Api;
        if (api is null)
        {
            var httpClient = HttpClient;
            if (httpClient is null)
            {
                httpClient = new HttpClient(new SocketsHttpHandler
                {
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    ConnectTimeout = options.Timeout,
                })
                {
                    Timeout = Timeout.InfiniteTimeSpan, // the Polly pipeline owns timeouts
                };
                owned.Add(httpClient);
            }

            api = new LangfuseApiClient(httpClient, options.BaseUrl, options.PublicKey!, options.SecretKey!, timeProvider);
        }

        var exportLogger = loggerFactory.CreateLogger(Log.ExportCategoryName);
        var shutdown = new ShutdownSignal();
        var resource = new OtlpResourceInfo(serviceName, instanceId, SdkVersion);
        var sender = new ResilientSender(options, timeProvider, metrics, exportLogger, shutdown, Probe);
        var gate = new DeliveryGate(timeProvider, exportLogger);
        IDurableQueue? durable = null;
        DurableForwarder? forwarder = null;
        if (options.BufferEnabled)
        {
            durable = DurableQueueFactory.Open(options, timeProvider, loggerFactory.CreateLogger(Log.BufferCategoryName), metrics, DurableFileSystem);
            if (durable is { IsAvailable: true } available)
            {
                metrics.Recovered(available.BufferedItems);
                metrics.SetBufferedSource(() => available.BufferedItems);
                forwarder = new DurableForwarder(available, api, sender, gate, metrics, exportLogger, timeProvider, probe: Probe);
            }
        }

        var exporter = Exporter ?? new LangfuseExporter(
            api,
            options,
            new ObservationPreparer(options, exportLogger, timeProvider),
            sender,
            resource,
            metrics,
            exportLogger,
            timeProvider,
            durable,
            gate,
            forwarder is { } wake ? wake.Wake : null);
        var pipeline = new ExportPipeline(options, exporter, metrics, exportLogger, timeProvider, shutdown, Probe);
        forwarder?.Start();
        return (pipeline, durable, forwarder);
    }

    private static string ResolveServiceName(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var entry = Assembly.GetEntryAssembly()?.GetName().Name;
        return string.IsNullOrEmpty(entry) ? "unknown_service:dotnet" : entry;
    }
}
