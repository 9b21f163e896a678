using System.Globalization;
using System.Text.Json;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

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

    private readonly WebApplication _app;
    private readonly RelayCore _core;
    private int _disposed;

    private RelayHost(WebApplication app, RelayCore core, Uri baseUrl)
    {
        _app = app;
        _core = core;
        BaseUrl = baseUrl;
    }

    /// <summary>Where the relay listens (the bound address, so port 0 becomes the real port).</summary>
    public Uri BaseUrl { get; }

    public string BufferDirectory => _core.Options.BufferDirectory;

    public string DeadLetterPath => _core.DeadLetters.Path;

    internal RelayMetrics Metrics => _core.Metrics;

    internal LangfuseMetrics ForwarderMetrics => _core.ForwarderMetrics;

    internal IDurableQueue Queue => _core.Queue;

    /// <summary>Starts the relay. Throws <see cref="RelayStartException"/> when the buffer directory is unusable or locked.</summary>
    /// <param name="options">What to relay, and where to keep it.</param>
    /// <param name="args">Command-line arguments (ASP.NET Core's: <c>--urls</c> and the like).</param>
    /// <param name="fileSystem">The durable queue's file operations (tests inject a full disk).</param>
    /// <param name="configureLogging">Replaces the default logging (stderr), for tests.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<RelayHost> StartAsync(
        RelayOptions options,
        string[] args,
        IDurableFileSystem? fileSystem = null,
        Action<ILoggingBuilder>? configureLogging = null,
        CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
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

        var loggerFactory = LoggerFactory.Create(configureLogging);
        RelayCore core;
        try
        {
            core = RelayCore.Open(options, fileSystem ?? DurableFileSystem.Instance, loggerFactory);
        }
        catch
        {
            loggerFactory.Dispose();
            throw;
        }

        builder.Services.AddSingleton<IHostedService>(core);
        var app = builder.Build();
        Map(app, core);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            await core.DisposeAsync();
            throw;
        }

        var address = app.Urls.FirstOrDefault(static u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? app.Urls.First();
        return new RelayHost(app, core, new Uri(address.Replace("://[::]", "://localhost", StringComparison.Ordinal).Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal)));
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

        await _app.DisposeAsync();
        await _core.DisposeAsync();
    }

    private static void Map(WebApplication app, RelayCore core)
    {
        var endpoints = core.Endpoints;
        app.MapPost(RelayEndpoints.OtlpPath, endpoints.OtlpAsync);
        app.MapPost(RelayEndpoints.IngestionPath, endpoints.IngestionAsync);
        app.MapMethods(RelayEndpoints.HealthPath, ["GET", "HEAD"], RelayEndpoints.HealthAsync);
        app.MapGet(RelayEndpoints.StatusPath, core.WriteStatusAsync);
        app.MapFallback(static context => RelayEndpoints.WriteJsonAsync(context, 404, static w =>
        {
            w.WriteStartObject();
            w.WriteString("message", "Not found");
            w.WriteEndObject();
        }));
    }

    /// <summary>What the relay runs besides HTTP, as a hosted service: it stops after the server has drained its requests.</summary>
    private sealed class RelayCore : IHostedService, IAsyncDisposable
    {
        private readonly IDisposable _lock;
        private readonly ILoggerFactory _loggerFactory;
        private readonly ILogger _logger;
        private readonly UpstreamMonitor _upstream;
        private readonly DeliveryGate _gate;
        private readonly HttpClient _httpClient;
        private readonly DurableForwarder _forwarder;
        private readonly GroupCommitWriter _writer;
        private readonly TimeProvider _time = TimeProvider.System;
        private int _stopped;

        private RelayCore(RelayOptions options, IDisposable directoryLock, DurableQueue queue, ILoggerFactory loggerFactory)
        {
            Options = options;
            Queue = queue;
            _lock = directoryLock;
            _loggerFactory = loggerFactory;
            _logger = loggerFactory.CreateLogger(RelayLog.CategoryName);
            ForwarderMetrics = new LangfuseMetrics();
            Metrics = new RelayMetrics();
            DeadLetters = new DeadLetterFile(Path.Combine(options.BufferDirectory, DeadLetterFile.FileName), _time);
            _httpClient = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = Timeout.InfiniteTimeSpan };
            var exportLogger = loggerFactory.CreateLogger(Log.ExportCategoryName);
            _upstream = new UpstreamMonitor(
                new LangfuseApiClient(_httpClient, options.Upstream.BaseUrl, options.Upstream.PublicKey!, options.Upstream.SecretKey!, _time),
                _time);
            _gate = new DeliveryGate(_time, exportLogger);
            var sender = new ResilientSender(options.Upstream, _time, ForwarderMetrics, exportLogger);
            var translator = new LegacyOtlpTranslator(); // for a v4 upstream, which takes observations only as OTLP
            _forwarder = new DurableForwarder(queue, _upstream, sender, _gate, ForwarderMetrics, loggerFactory.CreateLogger(Log.BufferCategoryName), _time, DeadLetter, translateLegacy: translator.Translate);
            _writer = new GroupCommitWriter(queue, Metrics, _logger, () =>
            {
                if (_upstream.LooksHealthy && !_gate.IsPaused)
                {
                    _forwarder.Wake();
                }
            });
            Endpoints = new RelayEndpoints(options, new ClientCredentials(options.ClientPublicKey, options.ClientSecretKey), _writer, Metrics, _time, _logger);
            ForwarderMetrics.SetBufferedSource(() => queue.BufferedItems);
            Metrics.Observe(ForwarderMetrics.Snapshot, () => queue.Stats, _time);
        }

        public RelayOptions Options { get; }

        public DurableQueue Queue { get; }

        public RelayMetrics Metrics { get; }

        public LangfuseMetrics ForwarderMetrics { get; }

        public DeadLetterFile DeadLetters { get; }

        public RelayEndpoints Endpoints { get; }

        public static RelayCore Open(RelayOptions options, IDurableFileSystem files, ILoggerFactory loggerFactory)
        {
            var directory = Path.GetFullPath(options.BufferDirectory);
            try
            {
                files.CreateDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new RelayStartException($"the buffer directory {directory} cannot be created: {ex.Message}");
            }

            var directoryLock = files.TryLockExclusive(Path.Combine(directory, LockFileName))
                ?? throw new RelayStartException($"another relay is using the buffer directory {directory} ({LockFileName} is held). Stop it, or give this relay its own LANGFUSE_BUFFER_DIR.");
            var logger = loggerFactory.CreateLogger(RelayLog.CategoryName);
            var queue = DurableQueue.Open(
                new DurableQueueOptions
                {
                    Directory = directory,
                    MaxBytes = options.BufferMaxBytes,
                    Retention = options.Upstream.BufferRetention,
                    FullPolicy = DurableFullPolicy.RejectNewest, // never drop what was acknowledged: refuse (503) instead
                    FsyncBeforeRename = options.Fsync,
                },
                TimeProvider.System,
                loggerFactory.CreateLogger(Log.BufferCategoryName),
                null,
                files);
            if (!queue.IsAvailable)
            {
                queue.Dispose();
                directoryLock.Dispose();
                throw new RelayStartException($"the buffer directory {directory} is not usable (it must be private to this user: mode 0700); see the log line above.");
            }

            var core = new RelayCore(options, directoryLock, queue, loggerFactory);
            RelayLog.Started(logger, core.Options.Describe(), queue.BufferedItems);
            return core;
        }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _writer.Start();
            _forwarder.Start();
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0)
            {
                return;
            }

            RelayLog.Stopping(_logger);
            await _writer.StopAsync();
            await _forwarder.DisposeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync(CancellationToken.None);
            Queue.Dispose();
            _lock.Dispose();
            _httpClient.Dispose();
            Metrics.Dispose();
            ForwarderMetrics.Dispose();
            _loggerFactory.Dispose();
        }

        public Task WriteStatusAsync(HttpContext context)
        {
            var backlog = Queue.Stats;
            var forwarded = ForwarderMetrics.Snapshot();
            var upstream = _upstream.Snapshot();
            var pause = _gate.RemainingPause;
            var state = pause > TimeSpan.Zero ? "paused"
                : upstream.LastFailure is null && upstream.LastSuccess is null ? "unknown"
                : _upstream.LooksHealthy ? "ok"
                : upstream.LastStatus is null ? "unreachable" : "failing";
            return RelayEndpoints.WriteJsonAsync(context, 200, w =>
            {
                w.WriteStartObject();
                w.WriteStartObject("accepted");
                w.WriteNumber("requests", Metrics.Requests);
                w.WriteNumber("items", Metrics.Items);
                w.WriteNumber("persistedBytes", Metrics.Bytes);
                w.WriteNumber("groupCommits", Metrics.Commits);
                w.WriteNumber("requestsPerCommit", Metrics.Commits == 0 ? 0 : Math.Round((double)Metrics.CommittedRecords / Metrics.Commits, 2));
                w.WriteEndObject();
                w.WriteStartObject("forwarded");
                w.WriteNumber("items", forwarded.Exported);
                w.WriteNumber("requests", forwarded.Requests);
                w.WriteNumber("retries", forwarded.Retries);
                w.WriteEndObject();
                w.WriteStartObject("backlog");
                w.WriteNumber("segments", backlog.Segments);
                w.WriteNumber("records", backlog.Records);
                w.WriteNumber("items", backlog.Items);
                w.WriteNumber("bytes", backlog.Bytes);
                w.WriteNumber("oldestAgeSeconds", Math.Round(Metrics.BacklogAge(backlog).TotalSeconds, 3));
                w.WriteEndObject();
                w.WriteStartObject("rejections");
                foreach (var (reason, count) in Metrics.RejectionCounts())
                {
                    w.WriteNumber(reason, count);
                }

                w.WriteEndObject();
                w.WriteStartObject("dropped");
                foreach (var (reason, count) in forwarded.Dropped)
                {
                    if (reason is DropReason.Rejected or DropReason.Expired or DropReason.Corrupt or DropReason.BufferFull or DropReason.DiskError)
                    {
                        w.WriteNumber(LangfuseMetrics.ReasonName(reason), count);
                    }
                }

                w.WriteEndObject();
                w.WriteStartObject("deadLetter");
                w.WriteString("path", DeadLetters.Path);
                w.WriteNumber("entries", DeadLetters.Written);
                w.WriteNumber("items", Metrics.UpstreamRejectedItems);
                w.WriteEndObject();
                w.WriteStartObject("upstream");
                w.WriteString("url", Redaction.Url(Options.Upstream.BaseUrl));
                w.WriteString("state", state);
                WriteTime(w, "lastSuccess", upstream.LastSuccess);
                WriteTime(w, "lastFailure", upstream.LastFailure);
                if (upstream.LastStatus is { } status)
                {
                    w.WriteNumber("lastStatus", status);
                }

                if (upstream.LastError is { } error)
                {
                    w.WriteString("lastError", error);
                }

                w.WriteNumber("pausedForSeconds", Math.Round(pause.TotalSeconds, 1));
                w.WriteNumber("inFlight", upstream.InFlight);
                w.WriteEndObject();
                w.WriteString("bufferDirectory", Options.BufferDirectory);
                w.WriteEndObject();
            });
        }

        private static void WriteTime(Utf8JsonWriter w, string name, DateTimeOffset? value)
        {
            if (value is { } time)
            {
                w.WriteString(name, time.ToString("O", CultureInfo.InvariantCulture));
            }
        }

        private void DeadLetter(DurableRecord record, string reason)
        {
            Metrics.DeadLettered(record.ItemCount);
            try
            {
                DeadLetters.Append(record, reason);
                RelayLog.DeadLettered(_logger, record.ItemCount, reason, DeadLetters.Path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
            {
                RelayLog.DeadLetterFailed(_logger, DeadLetters.Path, ex.Message);
            }
        }
    }
}
