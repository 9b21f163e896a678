using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Langfuse.Agents.Internal.Diagnostics;

/// <summary>
/// The tracer's counters, kept as plain integers (readable in code through <see cref="LangfuseStatistics"/>)
/// and published on a <see cref="Meter"/> named <c>Langfuse.Agents</c>.
/// </summary>
internal sealed class LangfuseMetrics : IDisposable
{
    public const string MeterName = "Langfuse.Agents";

    private static readonly DropReason[] Reasons = Enum.GetValues<DropReason>();
    private static readonly KeyValuePair<string, object?>[][] ReasonTags =
        [.. Reasons.Select(r => new[] { new KeyValuePair<string, object?>("reason", ReasonName(r)) })];

    private readonly long[] _dropped = new long[Reasons.Length];
    private readonly Meter _meter;
    private readonly Counter<long> _startedCounter;
    private readonly Counter<long> _exportedCounter;
    private readonly Counter<long> _droppedCounter;
    private readonly Counter<long> _retriesCounter;
    private readonly Counter<long> _requestsCounter;
    private readonly Histogram<double> _exportDuration;
    // Updated on callers' threads: each alone on a cache line, apart from what the background thread updates.
    private PaddedLong _started;
    private PaddedLong _ended;
    private PaddedLong _enqueued;
    private long _exported;
    private long _retries;
    private long _requests;
    private readonly Counter<long> _spilledCounter;
    private long _spilled;
    private long _recovered;
    private Func<long> _queueDepth = static () => 0;
    private Func<long> _buffered = static () => 0;

    public LangfuseMetrics()
    {
        _meter = new Meter(MeterName, LangfuseTracer.SdkVersion);
        _startedCounter = _meter.CreateCounter<long>("langfuse.agents.observations.started", "{observation}", "Observations started.");
        _exportedCounter = _meter.CreateCounter<long>("langfuse.agents.items.exported", "{item}", "Observations and scores accepted by Langfuse.");
        _droppedCounter = _meter.CreateCounter<long>("langfuse.agents.items.dropped", "{item}", "Observations and scores dropped, by reason.");
        _retriesCounter = _meter.CreateCounter<long>("langfuse.agents.export.retries", "{attempt}", "Retried HTTP attempts.");
        _requestsCounter = _meter.CreateCounter<long>("langfuse.agents.export.requests", "{request}", "HTTP requests (batches) sent.");
        _exportDuration = _meter.CreateHistogram<double>("langfuse.agents.export.duration", "ms", "Time to deliver one batch, retries included.");
        _meter.CreateObservableGauge("langfuse.agents.queue.depth", () => _queueDepth(), "{item}", "Items waiting to be sent.");
        _spilledCounter = _meter.CreateCounter<long>("langfuse.agents.buffer.spilled", "{item}", "Items written to the on-disk buffer.");
        _meter.CreateObservableGauge("langfuse.agents.buffer.items", () => _buffered(), "{item}", "Items waiting in the on-disk buffer.");
    }

    public void SetQueueDepthSource(Func<long> source) => _queueDepth = source;

    public void SetBufferedSource(Func<long> source) => _buffered = source;

    public void Spilled(int count)
    {
        Interlocked.Add(ref _spilled, count);
        _spilledCounter.Add(count);
        ExportLedger.Current?.Buffered(count);
    }

    /// <summary>Items found on disk at start-up, left by an earlier run: accepted by this process from the disk.</summary>
    public void Recovered(long count) => Interlocked.Add(ref _recovered, count);

    public void Started()
    {
        Interlocked.Increment(ref _started.Value);
        _startedCounter.Add(1);
    }

    public void Ended() => Interlocked.Increment(ref _ended.Value);

    public void Enqueued() => Interlocked.Increment(ref _enqueued.Value);

    public void Exported(int count)
    {
        if (count <= 0)
        {
            return;
        }

        Interlocked.Add(ref _exported, count);
        _exportedCounter.Add(count);
        ExportLedger.Current?.Delivered(count);
    }

    public void Dropped(DropReason reason, int count = 1)
    {
        if (count <= 0)
        {
            return;
        }

        Interlocked.Add(ref _dropped[(int)reason], count);
        _droppedCounter.Add(count, ReasonTags[(int)reason]);
        if (reason is not (DropReason.QueueFull or DropReason.SampledOut))
        {
            // Not for drops on the caller's thread before an item is queued: they never reach a flush.
            ExportLedger.Current?.Dropped(count);
        }
    }

    public void Retried()
    {
        Interlocked.Increment(ref _retries);
        _retriesCounter.Add(1);
    }

    public void RequestSent()
    {
        Interlocked.Increment(ref _requests);
        _requestsCounter.Add(1);
    }

    public void RecordExportDuration(TimeSpan elapsed) => _exportDuration.Record(elapsed.TotalMilliseconds);

    public long DroppedCount(DropReason reason) => Interlocked.Read(ref _dropped[(int)reason]);

    public LangfuseStatistics Snapshot()
    {
        var dropped = new Dictionary<DropReason, long>(Reasons.Length);
        foreach (var reason in Reasons)
        {
            dropped[reason] = Interlocked.Read(ref _dropped[(int)reason]);
        }

        return new LangfuseStatistics(
            Interlocked.Read(ref _started.Value),
            Interlocked.Read(ref _ended.Value),
            Interlocked.Read(ref _enqueued.Value),
            Interlocked.Read(ref _exported),
            dropped,
            Interlocked.Read(ref _retries),
            Interlocked.Read(ref _requests),
            _queueDepth())
        {
            Spilled = Interlocked.Read(ref _spilled),
            Recovered = Interlocked.Read(ref _recovered),
            Buffered = _buffered(),
        };
    }

    public static string ReasonName(DropReason reason) => reason switch
    {
        DropReason.QueueFull => "queue_full",
        DropReason.SampledOut => "sampled_out",
        DropReason.TooLarge => "too_large",
        DropReason.Shutdown => "shutdown",
        DropReason.ExportFailed => "export_failed",
        DropReason.CircuitOpen => "circuit_open",
        DropReason.Rejected => "rejected",
        DropReason.BufferFull => "buffer_full",
        DropReason.Expired => "expired",
        DropReason.Corrupt => "corrupt",
        DropReason.DiskError => "disk_error",
        _ => throw new UnreachableException(),
    };

    public void Dispose() => _meter.Dispose();
}
