namespace Langfuse.Agents;

/// <summary>
/// What <see cref="LangfuseTracer.FlushAsync"/> (or <see cref="LangfuseTracer.ShutdownAsync"/>) did with the items it
/// handled: everything recorded before the call, and whatever recorded meanwhile went out with it. Items dropped before
/// they were queued (queue full, sampled out) are not here; <see cref="LangfuseTracer.GetStatistics"/> counts them.
/// </summary>
public readonly record struct LangfuseFlushResult
{
    /// <summary>Items Langfuse accepted.</summary>
    public long Delivered { get; init; }

    /// <summary>
    /// Items that could not be delivered now (Langfuse down, failing or refusing the keys, or write-ahead on) and were
    /// written to the on-disk buffer; they are delivered later, by this process or the next one.
    /// </summary>
    public long Buffered { get; init; }

    /// <summary>Items given up on: rejected by Langfuse, too large, or undeliverable with no disk buffer (counted by reason in the statistics).</summary>
    public long Dropped { get; init; }

    /// <summary>
    /// Whether the flush finished within its timeout. When false, the counts are what was handled so far and
    /// <see cref="Pending"/> items were still queued or in flight; they go on in the background.
    /// </summary>
    public bool Completed { get; init; }

    /// <summary>Items still queued or being sent when an incomplete flush returned; 0 when <see cref="Completed"/>.</summary>
    public long Pending { get; init; }

    /// <summary>True when the flush completed and everything it handled reached Langfuse (nothing buffered or dropped).</summary>
    public bool AllDelivered => Completed && Buffered == 0 && Dropped == 0;
}
