using System.Globalization;
using System.Text.Json;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>What the relay runs besides HTTP, as a hosted service: it stops after the server has drained its requests.</summary>
internal sealed class RelayCore : IHostedService, IAsyncDisposable
{
    private readonly IDisposable _lock;
    private readonly ILogger _logger;
    private readonly RelayForwarding _forwarding;
    private readonly GroupCommitWriter _writer;
    private readonly TimeProvider _time;
    private readonly ClientCredentials _credentials;
    private long _deadLetterFailures;
    private int _stopped;
    private int _disposed;

    private RelayCore(RelayOptions options, IDisposable directoryLock, DurableQueue queue, ILoggerFactory loggerFactory, TimeProvider time, LangfuseMetrics forwarderMetrics)
    {
        Options = options;
        Queue = queue;
        _lock = directoryLock;
        _time = time;
        _logger = loggerFactory.CreateLogger(RelayLog.CategoryName);
        ForwarderMetrics = forwarderMetrics;
        Metrics = new RelayMetrics();
        DeadLetters = new DeadLetterFile(Path.Combine(queue.Directory, DeadLetterFile.FileName), options.DeadLetterMaxBytes, _time);
        _credentials = new ClientCredentials(options.ClientPublicKey, options.ClientSecretKey);
        _forwarding = new RelayForwarding(options, queue, ForwarderMetrics, loggerFactory, _time, DeadLetter);
        _writer = new GroupCommitWriter(queue, Metrics, _logger, _forwarding.Stored);
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
        var path = Path.Combine(directory, RelayHost.LockFileName);
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
            throw new RelayStartException($"another relay is using the buffer directory {directory} ({RelayHost.LockFileName} is held). Stop it, or give this relay its own LANGFUSE_BUFFER_DIR.");
        }

        return stream;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _writer.Start();
        _forwarding.Start();
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
        await _forwarding.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync(CancellationToken.None);
        Queue.Dispose();
        _lock.Dispose();
        Metrics.Dispose();
        ForwarderMetrics.Dispose();
        Bodies.Dispose();
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
        var upstream = _forwarding.Upstream.Snapshot();
        var pause = _forwarding.RemainingPause;
        var state = pause > TimeSpan.Zero ? "paused"
            : upstream.LastFailure is null && upstream.LastSuccess is null ? "unknown"
            : _forwarding.Upstream.LooksHealthy ? "ok"
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
