namespace Langfuse.Agents.Internal.Durable;

/// <summary>The counts, ages and size a segment header records.</summary>
/// <param name="Records">Records in the segment.</param>
/// <param name="Items">Items in them.</param>
/// <param name="OldestTicks">The oldest record's CreatedAt, UTC ticks.</param>
/// <param name="NewestTicks">The newest record's CreatedAt, UTC ticks.</param>
/// <param name="HeaderSize">The header's own size (48, or 40 for version 1).</param>
/// <param name="DeclaredBytes">The segment's size in bytes as written (version 2), or null (version 1).</param>
internal readonly record struct SegmentHeader(int Records, long Items, long OldestTicks, long NewestTicks, int HeaderSize = DurableFormat.SegmentHeaderSize, long? DeclaredBytes = null);
