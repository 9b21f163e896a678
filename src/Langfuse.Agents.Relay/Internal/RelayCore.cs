using System.Globalization;
using System.Text.Json;
using Langfuse.Agents.Relay.Internal.Json;
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
    private readonly TimeProvider _time;
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
        Credentials = new ClientCredentials(options.ClientPublicKey, options.ClientSecretKey);
        _forwarding = new RelayForwarding(options, queue, ForwarderMetrics, loggerFactory, _time, DeadLetter);
        Writer = new GroupCommitWriter(queue, Metrics, _logger, _time, options.MaxPendingRequests, _forwarding.Stored);
        Bodies = new IngressBodies(options.BodyTimeout, options.MaxInFlightBodyBytes, Math.Max(1, Environment.ProcessorCount), _time);
        Endpoints = new RelayEndpoints(options, Writer, Bodies, Metrics, _time, _logger);
        ForwarderMetrics.SetBufferedSource(() => queue.BufferedItems);
        Metrics.Observe(ForwarderMetrics.Snapshot, () => queue.Stats, _time);
    }

    public RelayOptions Options { get; }

    public DurableQueue Queue { get; }

    public RelayMetrics Metrics { get; }

    public LangfuseMetrics ForwarderMetrics { get; }

    public DeadLetterFile DeadLetters { get; }

    public RelayEndpoints Endpoints { get; }

    /// <summary>The group commit in front of the queue.</summary>
    public GroupCommitWriter Writer { get; }

    /// <summary>The keys clients must present, checked in one place (<see cref="ClientAuthFilter"/>).</summary>
    public ClientCredentials Credentials { get; }

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
        Writer.Start();
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
        await Writer.StopAsync();
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

    /// <summary><c>/relay/status</c>: access is decided by <see cref="ClientAuthFilter"/>; paths only for callers with the client keys.</summary>
    public IResult Status(HttpContext context)
    {
        var authenticated = ClientAuthFilter.IsAuthenticated(context);
        var backlog = Queue.Stats;
        var forwarded = ForwarderMetrics.Snapshot();
        var upstream = _forwarding.Upstream.Snapshot();
        var pause = _forwarding.RemainingPause;
        var state = pause > TimeSpan.Zero ? "paused"
            : upstream.LastFailure is null && upstream.LastSuccess is null ? "unknown"
            : _forwarding.Upstream.LooksHealthy ? "ok"
            : upstream.LastStatus is null ? "unreachable" : "failing";
        var dropped = new Dictionary<string, long>();
        foreach (var (reason, count) in forwarded.Dropped)
        {
            if (reason is DropReason.Rejected or DropReason.Expired or DropReason.Corrupt or DropReason.BufferFull or DropReason.DiskError)
            {
                dropped[LangfuseMetrics.ReasonName(reason)] = count;
            }
        }

        var body = new StatusBody(
            new StatusAccepted(
                Metrics.Requests,
                Metrics.Items,
                Metrics.Bytes,
                Metrics.Commits,
                Metrics.Commits == 0 ? 0 : Math.Round((double)Metrics.CommittedRecords / Metrics.Commits, 2)),
            new StatusForwarded(forwarded.Exported, forwarded.Requests, forwarded.Retries),
            new StatusBacklog(backlog.Segments, backlog.Records, backlog.Items, backlog.Bytes, Math.Round(Metrics.BacklogAge(backlog).TotalSeconds, 3)),
            new Dictionary<string, long>(Metrics.RejectionCounts()),
            dropped,
            new StatusDeadLetter(
                authenticated ? DeadLetters.Path : null,
                DeadLetters.Written,
                Metrics.UpstreamRejectedItems,
                DeadLetters.Rotations,
                DeadLetters.Discarded,
                DeadLetters.BodiesOmitted,
                DeadLetterFailures,
                DeadLetters.MaxBytes),
            new StatusIngress(Bodies.InFlightBytes, Options.MaxInFlightBodyBytes, Writer.Waiting, Writer.Capacity),
            new StatusUpstream(
                Redaction.Url(Options.Upstream.BaseUrl),
                state,
                Time(upstream.LastSuccess),
                Time(upstream.LastFailure),
                upstream.LastStatus,
                upstream.LastError,
                Math.Round(pause.TotalSeconds, 1),
                upstream.InFlight),
            authenticated ? Options.BufferDirectory : null);
        return TypedResults.Json(body, RelayJsonContext.Default.StatusBody);
    }

    private static string? Time(DateTimeOffset? value) => value?.ToString("O", CultureInfo.InvariantCulture);

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
