using System.Globalization;
using System.Text.Json;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
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

    internal RelayForwarding Forwarding => _core.Forwarding;

    internal IDurableQueue Queue => _core.Forwarding.Queue;

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
        private readonly GroupCommitWriter _writer;
        private readonly TimeProvider _time;
        private readonly ClientCredentials _credentials;
        private long _deadLetterFailures;
        private int _stopped;

        private RelayCore(RelayOptions options, IDisposable directoryLock, RelayForwarding forwarding, DeadLetterFile deadLetters, ILoggerFactory loggerFactory, TimeProvider time)
        {
            Options = options;
            Forwarding = forwarding;
            _lock = directoryLock;
            _loggerFactory = loggerFactory;
            _time = time;
            _logger = loggerFactory.CreateLogger(RelayLog.CategoryName);
            Metrics = new RelayMetrics();
            DeadLetters = deadLetters;
            _credentials = new ClientCredentials(options.ClientPublicKey, options.ClientSecretKey);
            _writer = new GroupCommitWriter(forwarding.Queue, Metrics, _logger, forwarding.Stored);
            Bodies = new IngressBodies(options.BodyTimeout, options.MaxInFlightBodyBytes, Math.Max(1, Environment.ProcessorCount), _time);
            Endpoints = new RelayEndpoints(options, _credentials, _writer, Bodies, Metrics, _time, _logger);
            Metrics.Observe(forwarding.Snapshot, () => forwarding.Queue.Stats, _time);
        }

        public RelayOptions Options { get; }

        public RelayForwarding Forwarding { get; }

        public RelayMetrics Metrics { get; }

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
            RelayCore? core = null;
            RelayForwarding forwarding;
            try
            {
                // The forwarder is not started before the core exists, so the hook never finds it missing.
                forwarding = RelayForwarding.Open(options, directory, files, loggerFactory, logger, time, (record, reason) => core!.DeadLetter(record, reason));
            }
            catch
            {
                directoryLock.Dispose();
                throw;
            }

            var deadLetters = new DeadLetterFile(Path.Combine(forwarding.Directory, DeadLetterFile.FileName), options.DeadLetterMaxBytes, time);
            core = new RelayCore(options, directoryLock, forwarding, deadLetters, loggerFactory, time);
            RelayLog.Started(logger, core.Options.Describe(), forwarding.BufferedItems);
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
            Forwarding.Start();
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
            await Forwarding.StopAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync(CancellationToken.None);
            await Forwarding.DisposeAsync();
            _lock.Dispose();
            Metrics.Dispose();
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

            var backlog = Forwarding.Queue.Stats;
            var forwarded = Forwarding.Snapshot();
            var upstream = Forwarding.Upstream();
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
                w.WriteString("state", upstream.State);
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

                w.WriteNumber("pausedForSeconds", Math.Round(upstream.PausedFor.TotalSeconds, 1));
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

        /// <summary>What Langfuse will never take: appended to the dead-letter file, counted, logged; never throws.</summary>
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
