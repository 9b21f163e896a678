namespace Langfuse.Agents.Internal.Durable;

/// <summary>What the durable queue does when an append would take it past its byte cap.</summary>
internal enum DurableFullPolicy
{
    /// <summary>
    /// Keep the newest data: the append is written, then the oldest segments (not being replayed) are deleted until
    /// the queue is back under its cap; their items are counted as <see cref="DropReason.BufferFull"/>. The default:
    /// during a long outage the most recent traces are usually the ones worth having.
    /// </summary>
    DropOldest,

    /// <summary>Keep what is on disk: the append is refused with <see cref="AppendOutcome.Full"/> (the caller counts its items).</summary>
    RejectNewest,
}
