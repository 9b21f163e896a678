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

    internal LangfuseMetrics ForwarderMetrics => _core.ForwarderMetrics;

    internal IDurableQueue Queue => _core.Queue;

    /// <summary>Starts the relay. Throws <see cref="RelayStartException"/> when the buffer directory is unusable or locked.</summary>
    /// <param name="options">What to relay, and where to keep it.</param>
    /// <param name="args">Command-line arguments (ASP.NET Core's: <c>--urls</c> and the like).</param>
    /// <param name="fileSystem">The durable queue's file operations (tests inject a full disk).</param>
    /// <param name="configureLogging">Replaces the default logging (stderr), for tests.</param>
    /// <param name="timeProvider">The clock (body time limit, record times, retries); the system clock by default.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<RelayHost> StartAsync(
        RelayOptions options,
        string[] args,
        IDurableFileSystem? fileSystem = null,
        Action<ILoggingBuilder>? configureLogging = null,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        timeProvider ??= TimeProvider.System;
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
            core = RelayCore.Open(options, fileSystem ?? DurableFileSystem.Instance, loggerFactory, timeProvider);
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
        private readonly TimeProvider _time;
        private readonly ClientCredentials _credentials;
        private long _deadLetterFailures;
        private int _stopped;

        private RelayCore(RelayOptions options, IDisposable directoryLock, DurableQueue queue, ILoggerFactory loggerFactory, TimeProvider time, LangfuseMetrics forwarderMetrics)
        {
            Options = options;
            Queue = queue;
            _lock = directoryLock;
            _loggerFactory = loggerFactory;
            _time = time;
            _logger = loggerFactory.CreateLogger(RelayLog.CategoryName);
            ForwarderMetrics = forwarderMetrics;
            Metrics = new RelayMetrics();
            DeadLetters = new DeadLetterFile(Path.Combine(queue.Directory, DeadLetterFile.FileName), options.DeadLetterMaxBytes, _time);
            _credentials = new ClientCredentials(options.ClientPublicKey, options.ClientSecretKey);
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
            Bodies = new IngressBodies(options.BodyTimeout, options.MaxInFlightBodyBytes, Math.Max(1, Environment.ProcessorCount), _time);
            Endpoints = new RelayEndpoints(options, _credentials, _writer, Bodies, Metrics, _time, _logger);
            ForwarderMetrics.SetBufferedSource(() => queue.BufferedItems);
            Metrics.Observe(ForwarderMetrics.Snapshot, () => queue.Stats, _time);
        }

        public RelayOptions Options { get; }

        public DurableQueue Queue { get; }

        public RelayMetrics Metrics { get; }

        public LangfuseMetrics ForwarderMetrics { get; }

        public DeadLetterFile DeadLetters { get; }

        public RelayEndpoints Endpoints { get; }

        public IngressBodies Bodies { get; }

        public long DeadLetterFailures => Interlocked.Read(ref _deadLetterFailures);

        public bool ListensBeyondLoopback { get; set; }

        public static RelayCore Open(RelayOptions options, IDurableFileSystem files, ILoggerFactory loggerFactory, TimeProvider time)
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

            var directoryLock = LockDirectory(directory);
            var logger = loggerFactory.CreateLogger(RelayLog.CategoryName);
            var forwarderMetrics = new LangfuseMetrics();
            var drops = new QueueDropLog(forwarderMetrics, logger, time);
            var queue = DurableQueue.Open(
                new DurableQueueOptions
                {
                    Directory = directory,
                    MaxBytes = options.BufferMaxBytes,
                    Retention = options.Upstream.BufferRetention,
                    FullPolicy = DurableFullPolicy.RejectNewest, // never drop what was acknowledged: refuse (503) instead
                    FsyncBeforeRename = options.Fsync,
                },
                time,
                loggerFactory.CreateLogger(Log.BufferCategoryName),
                drops.Report, // every record the queue gives up (corrupt, expired, over the cap) is counted, shown and logged
                files);
            if (!queue.IsAvailable)
            {
                queue.Dispose();
                directoryLock.Dispose();
                forwarderMetrics.Dispose();
                throw new RelayStartException($"the buffer directory {directory} is not usable (it must be private to this user: mode 0700); see the log line above.");
            }

            var core = new RelayCore(options, directoryLock, queue, loggerFactory, time, forwarderMetrics);
            RelayLog.Started(logger, core.Options.Describe(), queue.BufferedItems);
            return core;
        }

        /// <summary>
        /// Takes <c>relay.lock</c>, opened without following links and only as a regular file of this user: anything
        /// else in its place (a directory, a FIFO, a link, a file that cannot be opened) stops the start with a reason.
        /// </summary>
        private static FileStream LockDirectory(string directory)
        {
            var path = Path.Combine(directory, LockFileName);
            FileStream stream;
            try
            {
                stream = RelayFiles.OpenForLock(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new RelayStartException($"the lock file {path} cannot be used: {ex.Message}");
            }

            if (!RelayFiles.TryLock(stream))
            {
                stream.Dispose();
                throw new RelayStartException($"another relay is using the buffer directory {directory} ({LockFileName} is held). Stop it, or give this relay its own LANGFUSE_BUFFER_DIR.");
            }

            return stream;
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
            Bodies.Dispose();
            _loggerFactory.Dispose();
        }

        public Task WriteStatusAsync(HttpContext context)
        {
            // Paths (and, beyond loopback, everything) only for callers with the client keys.
            var authenticated = _credentials.Verify(context.Request.Headers.Authorization.ToString());
            if (!authenticated && ListensBeyondLoopback)
            {
                Metrics.Rejected(RelayRejection.Unauthorized);
                return RelayEndpoints.WriteJsonAsync(context, 401, static w =>
                {
                    w.WriteStartObject();
                    w.WriteString("message", "Invalid credentials. /relay/status needs the relay's client keys when it listens beyond loopback.");
                    w.WriteEndObject();
                });
            }

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
                if (authenticated)
                {
                    w.WriteString("path", DeadLetters.Path);
                }

                w.WriteNumber("entries", DeadLetters.Written);
                w.WriteNumber("items", Metrics.UpstreamRejectedItems);
                w.WriteNumber("rotations", DeadLetters.Rotations);
                w.WriteNumber("discardedEntries", DeadLetters.Discarded);
                w.WriteNumber("bodiesOmitted", DeadLetters.BodiesOmitted);
                w.WriteNumber("writeFailures", DeadLetterFailures);
                w.WriteNumber("maxBytes", DeadLetters.MaxBytes);
                w.WriteEndObject();
                w.WriteStartObject("ingress");
                w.WriteNumber("bodyBytesInFlight", Bodies.InFlightBytes);
                w.WriteNumber("bodyBytesBudget", Options.MaxInFlightBodyBytes);
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
                if (authenticated)
                {
                    w.WriteString("bufferDirectory", Options.BufferDirectory);
                }

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
            try
            {
                DeadLetters.Append(record, reason);
                RelayLog.DeadLettered(_logger, record.ItemCount, reason, DeadLetters.Path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
            {
                Interlocked.Increment(ref _deadLetterFailures);
                RelayLog.DeadLetterFailed(_logger, DeadLetters.Path, ex.Message);
            }
            finally
            {
                // Counted once the entry is in the file (or known not to be): a reader of the count finds the line.
                Metrics.DeadLettered(record.ItemCount);
            }
        }
    }
}
