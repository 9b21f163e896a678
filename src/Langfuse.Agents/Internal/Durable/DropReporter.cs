using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Everything the queue removes from disk without delivering it (damaged records, expired segments, segments
/// evicted at the cap) goes through here: counted through the queue's drop callback and in its own totals, and
/// logged, aggregated: the first drop of a reason at once, then at most one line a minute per reason with what was
/// dropped since (the rest is logged when the queue is disposed).
/// </summary>
internal sealed class DropReporter
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);

    private readonly string _directory;
    private readonly Action<DropReason, long>? _onDrop;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<DropReason, Pending> _pending = [];
    private long _corrupt;
    private long _expired;
    private long _bufferFull;

    public DropReporter(string directory, Action<DropReason, long>? onDrop, ILogger logger, TimeProvider time)
    {
        _directory = directory;
        _onDrop = onDrop;
        _logger = logger;
        _time = time;
    }

    /// <summary>Items dropped so far, by reason.</summary>
    public DurableQueueDrops Totals => new(Interlocked.Read(ref _corrupt), Interlocked.Read(ref _expired), Interlocked.Read(ref _bufferFull));

    /// <summary>Counts and logs drops collected under the queue's lock; call outside it.</summary>
    public void Report(List<DurableDrop> drops)
    {
        foreach (var drop in drops)
        {
            if (drop.Items <= 0 && drop.Segments <= 0)
            {
                continue;
            }

            switch (drop.Reason)
            {
                case DropReason.Corrupt: Interlocked.Add(ref _corrupt, drop.Items); break;
                case DropReason.Expired: Interlocked.Add(ref _expired, drop.Items); break;
                case DropReason.BufferFull: Interlocked.Add(ref _bufferFull, drop.Items); break;
            }

            Count(drop.Reason, drop.Items);
            Log(drop);
        }
    }

    /// <summary>Logs what is waiting for its next line.</summary>
    public void Flush()
    {
        List<(DropReason Reason, Pending Pending)> due;
        lock (_lock)
        {
            due = [.. _pending.Where(static p => p.Value.Items > 0 || p.Value.Segments > 0).Select(static p => (p.Key, p.Value))];
            foreach (var (reason, pending) in due)
            {
                _pending[reason] = pending with { Items = 0, Segments = 0 };
            }
        }

        foreach (var (reason, pending) in due)
        {
            DurableLog.Dropped(_logger, pending.Items, pending.Segments, _directory, Why(reason), " (since the last report)");
        }
    }

    private static string Why(DropReason reason) => reason switch
    {
        DropReason.Corrupt => "damaged records (wrong checksum or length; the intact records around them are kept)",
        DropReason.Expired => "older than the retention (LANGFUSE_BUFFER_RETENTION)",
        DropReason.BufferFull => "the oldest segments, to stay under the cap (LANGFUSE_BUFFER_MAX_BYTES)",
        _ => reason.ToString(),
    };

    private void Count(DropReason reason, long items)
    {
        if (_onDrop is null || items <= 0)
        {
            return;
        }

        try
        {
            _onDrop(reason, items);
        }
#pragma warning disable CA1031 // A throwing counter must not break the queue.
        catch (Exception e)
#pragma warning restore CA1031
        {
            DurableLog.FileFailed(_logger, "count drops for", _directory, e.Message);
        }
    }

    private void Log(DurableDrop drop)
    {
        var now = _time.GetUtcNow();
        Pending line;
        lock (_lock)
        {
            _pending.TryGetValue(drop.Reason, out var pending);
            pending = pending with { Items = pending.Items + drop.Items, Segments = pending.Segments + drop.Segments };
            if (pending.LastLogged is { } last && now - last < LogInterval)
            {
                _pending[drop.Reason] = pending;
                return;
            }

            line = pending;
            _pending[drop.Reason] = new Pending(0, 0, now);
        }

        DurableLog.Dropped(_logger, line.Items, line.Segments, _directory, Why(drop.Reason), line.LastLogged is null ? string.Empty : " (since the last report)");
    }

    private readonly record struct Pending(long Items, long Segments, DateTimeOffset? LastLogged);
}
