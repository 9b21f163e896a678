namespace Langfuse.Agents.Internal.Durable;

/// <summary>What <see cref="DurableFormat.Decode"/> read from a segment file.</summary>
/// <param name="Records">The valid records, in file order.</param>
/// <param name="Items">Items in the valid records.</param>
/// <param name="LostRecords">Records that were damaged and skipped.</param>
/// <param name="LostItems">Items in them (see <see cref="DurableFormat.Decode"/> for how unknown counts are counted).</param>
/// <param name="HeaderIntact">Whether the segment header was valid.</param>
internal sealed record SegmentContents(IReadOnlyList<DurableRecord> Records, long Items, long LostRecords, long LostItems, bool HeaderIntact);
