using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Http;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Everything the relay needs to forward what it acknowledged, built in one place: the durable queue in its buffer
/// directory, the upstream client, the delivery pipeline, the forwarder (with the dead-letter hook and the
/// legacy-to-OTLP translator for a v4 upstream) and their counters. The relay's hosting (endpoints, group commit,
/// status) talks to forwarding only through this type.
/// </summary>
internal sealed class RelayForwarding : IAsyncDisposable
{
    private readonly HttpClient _httpClient;
    private readonly UpstreamMonitor _upstream;
    private readonly DeliveryGate _gate;
    private readonly DurableForwarder _forwarder;
    private readonly LangfuseMetrics _metrics;
    private int _stopped;

    private RelayForwarding(RelayOptions options, DurableQueue queue, LangfuseMetrics metrics, ILoggerFactory loggerFactory, TimeProvider time, Action<DurableRecord, string> onRejected)
    {
        Queue = queue;
        _metrics = metrics;
        _httpClient = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = Timeout.InfiniteTimeSpan };
        var exportLogger = loggerFactory.CreateLogger(Log.ExportCategoryName);
        _upstream = new UpstreamMonitor(
            new LangfuseApiClient(_httpClient, options.Upstream.BaseUrl, options.Upstream.PublicKey!, options.Upstream.SecretKey!, time),
            time);
        _gate = new DeliveryGate(time, exportLogger);
        var sender = new ResilientSender(options.Upstream, time, metrics, exportLogger);
        var translator = new LegacyOtlpTranslator(); // for a v4 upstream, which takes observations only as OTLP
        _forwarder = new DurableForwarder(queue, _upstream, sender, _gate, metrics, loggerFactory.CreateLogger(Log.BufferCategoryName), time, onRejected, translateLegacy: translator.Translate);
        metrics.SetBufferedSource(() => queue.BufferedItems);
    }

    /// <summary>The durable queue: the group commit appends to it; its stats are the backlog.</summary>
    public DurableQueue Queue { get; }

    /// <summary>The buffer directory, as a full path.</summary>
    public string Directory => Queue.Directory;

    /// <summary>Items on disk now, read without waiting on a write in progress.</summary>
    public long BufferedItems => Queue.BufferedItems;

    /// <summary>
    /// Opens the queue in <paramref name="directory"/> (refusing new data when full, never dropping what was
    /// acknowledged) and builds the forwarder, not started. Throws <see cref="RelayStartException"/> when the directory
    /// cannot be used.
    /// </summary>
    /// <param name="options">The upstream, its retry and breaker settings, the buffer cap, retention and fsync policy.</param>
    /// <param name="directory">The buffer directory, as a full path (created and locked by the caller).</param>
    /// <param name="files">The queue's file operations (tests inject a full disk).</param>
    /// <param name="loggerFactory">Where forwarding and the buffer log.</param>
    /// <param name="logger">The relay's own log, for what the buffer gives up.</param>
    /// <param name="time">The clock.</param>
    /// <param name="onRejected">What Langfuse will never take (or can never be sent): the dead-letter file.</param>
    public static RelayForwarding Open(
        RelayOptions options,
        string directory,
        IDurableFileSystem files,
        ILoggerFactory loggerFactory,
        ILogger logger,
        TimeProvider time,
        Action<DurableRecord, string> onRejected)
    {
        var metrics = new LangfuseMetrics();
        var drops = new QueueDropLog(metrics, logger, time);
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
            metrics.Dispose();
            throw new RelayStartException($"the buffer directory {directory} is not usable (it must be private to this user: mode 0700); see the log line above.");
        }

        return new RelayForwarding(options, queue, metrics, loggerFactory, time, onRejected);
    }

    /// <summary>Forwarded items, requests, retries and drops by reason, as counted so far.</summary>
    public LangfuseStatistics Snapshot() => _metrics.Snapshot();

    /// <summary>Items given up for <paramref name="reason"/> so far.</summary>
    public long DroppedCount(DropReason reason) => _metrics.DroppedCount(reason);

    /// <summary>How the upstream is doing, for <c>/relay/status</c>.</summary>
    public RelayUpstreamStatus Upstream()
    {
        var upstream = _upstream.Snapshot();
        var pause = _gate.RemainingPause;
        var state = pause > TimeSpan.Zero ? "paused"
            : upstream.LastFailure is null && upstream.LastSuccess is null ? "unknown"
            : _upstream.LooksHealthy ? "ok"
            : upstream.LastStatus is null ? "unreachable" : "failing";
        return new RelayUpstreamStatus(state, upstream.LastSuccess, upstream.LastFailure, upstream.LastStatus, upstream.LastError, pause, upstream.InFlight);
    }

    public void Start() => _forwarder.Start();

    /// <summary>
    /// A group commit stored records: the forwarder looks at the disk now, but only while Langfuse answers (during an
    /// outage its own back-off decides when to try again).
    /// </summary>
    public void Stored()
    {
        if (_upstream.LooksHealthy && !_gate.IsPaused)
        {
            _forwarder.Wake();
        }
    }

    /// <summary>Stops forwarding; what is not forwarded stays on disk.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _forwarder.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Queue.Dispose();
        _httpClient.Dispose();
        _metrics.Dispose();
    }
}
