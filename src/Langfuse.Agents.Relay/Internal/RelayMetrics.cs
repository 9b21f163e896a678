using System.Diagnostics.Metrics;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// The relay's counters, kept as integers for <c>/relay/status</c> and published on a <see cref="Meter"/> named
/// <c>Langfuse.Agents.Relay</c>. Forwarding and drop figures come from the forwarder's <see cref="LangfuseMetrics"/>.
/// </summary>
internal sealed class RelayMetrics : IDisposable
{
    public const string MeterName = "Langfuse.Agents.Relay";

    private static readonly string[] RejectionReasons = ["unauthorized", "malformed", "too_large", "unsupported_media_type", "invalid_events", "buffer_unavailable", "body_timeout", "busy"];

    private readonly Meter _meter;
    private readonly Counter<long> _acceptedRequests;
    private readonly Counter<long> _acceptedItems;
    private readonly Counter<long> _persistedBytes;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _upstreamRejected;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<long> _commitRecords;
    private readonly long[] _rejected = new long[RejectionReasons.Length];
    private long _requests;
    private long _items;
    private long _bytes;
    private long _commits;
    private long _committedRecords;
    private long _upstreamRejectedItems;
    private Func<LangfuseStatistics>? _forwarder;
    private Func<DurableQueueStats>? _backlog;
    private TimeProvider _time = TimeProvider.System;

    public RelayMetrics()
    {
        _meter = new Meter(MeterName, LangfuseTracer.SdkVersion);
        _acceptedRequests = _meter.CreateCounter<long>("langfuse.relay.requests.accepted", "{request}", "Requests acknowledged after they were on disk.");
        _acceptedItems = _meter.CreateCounter<long>("langfuse.relay.items.accepted", "{item}", "Spans and batch events acknowledged.");
        _persistedBytes = _meter.CreateCounter<long>("langfuse.relay.bytes.persisted", "By", "Request bytes written to the buffer.");
        _rejections = _meter.CreateCounter<long>("langfuse.relay.rejections", "{request}", "Requests or events the relay refused, by reason.");
        _upstreamRejected = _meter.CreateCounter<long>("langfuse.relay.items.dead_lettered", "{item}", "Items Langfuse rejected for good, written to the dead-letter file.");
        _commitDuration = _meter.CreateHistogram<double>("langfuse.relay.commit.duration", "ms", "Time of one group commit (write + fsync).");
        _commitRecords = _meter.CreateHistogram<long>("langfuse.relay.commit.records", "{request}", "Requests sharing one group commit.");
        _meter.CreateObservableCounter("langfuse.relay.items.forwarded", () => _forwarder?.Invoke().Exported ?? 0, "{item}", "Items Langfuse accepted from the relay.");
        _meter.CreateObservableCounter("langfuse.relay.items.dropped", ObserveDrops, "{item}", "Acknowledged items given up, by reason (expired, corrupt, rejected by Langfuse).");
        _meter.CreateObservableGauge("langfuse.relay.backlog.items", () => _backlog?.Invoke().Items ?? 0, "{item}", "Items waiting on disk.");
        _meter.CreateObservableGauge("langfuse.relay.backlog.bytes", () => _backlog?.Invoke().Bytes ?? 0, "By", "Bytes waiting on disk.");
        _meter.CreateObservableGauge("langfuse.relay.backlog.age", () => BacklogAge(_backlog?.Invoke() ?? default).TotalSeconds, "s", "Age of the oldest record waiting on disk.");
    }

    public long Requests => Interlocked.Read(ref _requests);

    public long Items => Interlocked.Read(ref _items);

    public long Bytes => Interlocked.Read(ref _bytes);

    public long Commits => Interlocked.Read(ref _commits);

    public long CommittedRecords => Interlocked.Read(ref _committedRecords);

    public long UpstreamRejectedItems => Interlocked.Read(ref _upstreamRejectedItems);

    public void Observe(Func<LangfuseStatistics> forwarder, Func<DurableQueueStats> backlog, TimeProvider time)
    {
        _forwarder = forwarder;
        _backlog = backlog;
        _time = time;
    }

    public TimeSpan BacklogAge(DurableQueueStats stats) =>
        stats.OldestCreatedAt is { } oldest && _time.GetUtcNow() > oldest ? _time.GetUtcNow() - oldest : TimeSpan.Zero;

    public void Accepted(string endpoint, int items, long bytes)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _items, items);
        Interlocked.Add(ref _bytes, bytes);
        var tag = new KeyValuePair<string, object?>("endpoint", endpoint);
        _acceptedRequests.Add(1, tag);
        _acceptedItems.Add(items, tag);
        _persistedBytes.Add(bytes);
    }

    public long Rejected(RelayRejection reason, int count = 1)
    {
        var total = Interlocked.Add(ref _rejected[(int)reason], count);
        _rejections.Add(count, new KeyValuePair<string, object?>("reason", RejectionReasons[(int)reason]));
        return total;
    }

    public IReadOnlyDictionary<string, long> RejectionCounts()
    {
        var counts = new Dictionary<string, long>(RejectionReasons.Length);
        for (var i = 0; i < RejectionReasons.Length; i++)
        {
            counts[RejectionReasons[i]] = Interlocked.Read(ref _rejected[i]);
        }

        return counts;
    }

    public void DeadLettered(int items)
    {
        Interlocked.Add(ref _upstreamRejectedItems, items);
        _upstreamRejected.Add(items);
    }

    public void Committed(int records, long bytes, bool stored, TimeSpan elapsed)
    {
        if (!stored)
        {
            return;
        }

        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _committedRecords, records);
        _commitDuration.Record(elapsed.TotalMilliseconds);
        _commitRecords.Record(records);
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveDrops()
    {
        if (_forwarder?.Invoke() is not { } statistics)
        {
            yield break;
        }

        foreach (var (reason, count) in statistics.Dropped)
        {
            if (count > 0)
            {
                yield return new Measurement<long>(count, new KeyValuePair<string, object?>("reason", LangfuseMetrics.ReasonName(reason)));
            }
        }
    }
}

/// <summary>Why the relay refused a request (or, for <see cref="InvalidEvents"/>, events of a batch).</summary>
internal enum RelayRejection
{
    Unauthorized,
    Malformed,
    TooLarge,
    UnsupportedMediaType,
    InvalidEvents,
    BufferUnavailable,
    BodyTimeout,
    Busy,
}
