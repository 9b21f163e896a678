namespace Langfuse.Agents.Internal.Durable;

/// <summary>The counts and ages a segment header records.</summary>
/// <param name="Records">Records in the segment.</param>
/// <param name="Items">Items in them.</param>
/// <param name="OldestTicks">The oldest record's CreatedAt, UTC ticks.</param>
/// <param name="NewestTicks">The newest record's CreatedAt, UTC ticks.</param>
internal readonly record struct SegmentHeader(int Records, long Items, long OldestTicks, long NewestTicks);
