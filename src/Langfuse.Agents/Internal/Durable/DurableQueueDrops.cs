namespace Langfuse.Agents.Internal.Durable;

/// <summary>Items a queue has dropped since it opened, by reason (also reported through its drop callback).</summary>
/// <param name="Corrupt">In damaged records.</param>
/// <param name="Expired">In segments older than the retention.</param>
/// <param name="BufferFull">In segments evicted at the cap.</param>
internal readonly record struct DurableQueueDrops(long Corrupt, long Expired, long BufferFull);
