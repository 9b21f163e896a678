namespace Langfuse.Agents.Internal.Durable;

/// <summary>What the index knows of one segment file without reading it whole.</summary>
/// <param name="Records">Records in it.</param>
/// <param name="Items">Items in them.</param>
/// <param name="Bytes">Its size on disk.</param>
/// <param name="OldestTicks">Its oldest record's CreatedAt, UTC ticks.</param>
/// <param name="NewestTicks">Its newest record's CreatedAt, UTC ticks (expiry is measured from here).</param>
internal readonly record struct SegmentInfo(int Records, long Items, long Bytes, long OldestTicks, long NewestTicks);
