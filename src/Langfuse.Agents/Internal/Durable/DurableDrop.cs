namespace Langfuse.Agents.Internal.Durable;

/// <summary>Something the queue removed from disk without delivering it.</summary>
/// <param name="Reason"><see cref="DropReason.Corrupt"/>, <see cref="DropReason.Expired"/> or <see cref="DropReason.BufferFull"/>.</param>
/// <param name="Items">Items lost.</param>
/// <param name="Segments">Segment files deleted (0 when only damaged records were cut out of one).</param>
internal readonly record struct DurableDrop(DropReason Reason, long Items, long Segments);
