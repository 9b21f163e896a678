namespace Langfuse.Agents;

/// <summary>
/// A snapshot of a tracer's counters: the same figures its <c>Langfuse.Agents</c> meter publishes. Items are
/// observations and scores. At every quiet moment (nothing in flight), for a process that is the only one using its
/// buffer directory: <see cref="Enqueued"/> + <see cref="Recovered"/> = <see cref="Exported"/> + the drops after
/// enqueueing (every reason except <see cref="DropReason.QueueFull"/> and <see cref="DropReason.SampledOut"/>) +
/// <see cref="Buffered"/> + <see cref="QueueDepth"/>.
/// </summary>
public sealed class LangfuseStatistics
{
    internal LangfuseStatistics(
        long started,
        long ended,
        long enqueued,
        long exported,
        IReadOnlyDictionary<DropReason, long> dropped,
        long retries,
        long requests,
        long queueDepth)
    {
        Started = started;
        Ended = ended;
        Enqueued = enqueued;
        Exported = exported;
        Dropped = dropped;
        Retries = retries;
        Requests = requests;
        QueueDepth = queueDepth;
    }

    /// <summary>Observations started.</summary>
    public long Started { get; }

    /// <summary>Observations ended.</summary>
    public long Ended { get; }

    /// <summary>Items accepted into the in-memory queue.</summary>
    public long Enqueued { get; }

    /// <summary>Items Langfuse accepted.</summary>
    public long Exported { get; }

    /// <summary>Items dropped, by reason (every reason present, zero when none).</summary>
    public IReadOnlyDictionary<DropReason, long> Dropped { get; }

    /// <summary>All dropped items.</summary>
    public long DroppedTotal => Dropped.Values.Sum();

    /// <summary>
    /// Items dropped after they were accepted into the queue: every reason except <see cref="DropReason.QueueFull"/>
    /// and <see cref="DropReason.SampledOut"/>, which refuse items before they are enqueued.
    /// </summary>
    public long DroppedAfterEnqueue => Dropped.Where(static d => d.Key is not (DropReason.QueueFull or DropReason.SampledOut)).Sum(static d => d.Value);

    /// <summary>Retried HTTP attempts.</summary>
    public long Retries { get; }

    /// <summary>HTTP requests (batches) sent, retries included.</summary>
    public long Requests { get; }

    /// <summary>Items waiting in the in-memory queue or in the batch being sent.</summary>
    public long QueueDepth { get; }

    /// <summary>Items written to the on-disk buffer because they could not be delivered (or, with write-ahead, before sending).</summary>
    public long Spilled { get; init; }

    /// <summary>Items found in the on-disk buffer at start-up, left there by an earlier run.</summary>
    public long Recovered { get; init; }

    /// <summary>Items waiting in the on-disk buffer now.</summary>
    public long Buffered { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"started={Started} ended={Ended} enqueued={Enqueued} exported={Exported} dropped={DroppedTotal} " +
        $"({string.Join(", ", Dropped.Where(d => d.Value > 0).Select(d => $"{d.Key}={d.Value}"))}) retries={Retries} requests={Requests} queue={QueueDepth} " +
        $"spilled={Spilled} recovered={Recovered} buffered={Buffered}";
}
