namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// The on-disk queue of request bodies that could not be delivered yet. Appends are atomic per call (one segment
/// file written to a temporary name, fsynced, renamed). Replay is oldest first and only by the process that holds
/// the directory's lock, so two processes never send the same records. No member throws: failures are results,
/// counted and logged.
/// </summary>
internal interface IDurableQueue : IDisposable
{
    /// <summary>False when the directory could not be made private or usable: appends are then refused.</summary>
    bool IsAvailable { get; }

    /// <summary>Records (and their items) on disk now. May wait for an append in progress (and its fsync).</summary>
    DurableQueueStats Stats { get; }

    /// <summary>Items on disk now, read without waiting: for metrics and statistics, which must never wait on a disk.</summary>
    long BufferedItems { get; }

    /// <summary>
    /// Writes the records as one new segment, atomically (temporary file, then rename) and, unless the fsync policy
    /// says otherwise, durably (fsync before rename) before returning <see cref="AppendOutcome.Stored"/>. When the
    /// byte cap is reached, the configured policy applies.
    /// </summary>
    AppendOutcome Append(IReadOnlyList<DurableRecord> records);

    /// <summary>
    /// The oldest segment this process may replay (it holds, or now takes, the directory lock), with its valid
    /// records; corrupt records are skipped and counted. False when there is none.
    /// </summary>
    bool TryTakeOldest(out DurableSegment? segment);

    /// <summary>
    /// Up to <paramref name="maxSegments"/> of the oldest segments this process may replay, oldest first, stopping once
    /// their records hold <paramref name="maxBytes"/> (at least one is taken): a forwarder that sends many segments per
    /// round takes them in one call. Each is completed, released or replaced as one taken by <see cref="TryTakeOldest"/>.
    /// </summary>
    IReadOnlyList<DurableSegment> TakeOldest(int maxSegments, long maxBytes)
    {
        var taken = new List<DurableSegment>();
        long bytes = 0;
        while (taken.Count < maxSegments && bytes < maxBytes && TryTakeOldest(out var segment) && segment is not null)
        {
            taken.Add(segment);
            foreach (var record in segment.Records)
            {
                bytes += record.Payload.Length;
            }
        }

        return taken;
    }

    /// <summary>Deletes a delivered segment.</summary>
    void Complete(DurableSegment segment);

    /// <summary>Puts a taken segment back (delivery failed); it stays oldest.</summary>
    void Release(DurableSegment segment);

    /// <summary>
    /// Replaces a taken segment by the records still to deliver (some were delivered or rejected), atomically and
    /// under the same name, and puts it back as <see cref="Release"/> does: it stays oldest. An empty list completes it.
    /// </summary>
    void Replace(DurableSegment segment, IReadOnlyList<DurableRecord> remaining);

    /// <summary>
    /// Records progress on a segment still being delivered: rewrites it with the records still to deliver, atomically
    /// and under the same name, and keeps it taken (the owner completes, releases or replaces it later). A process that
    /// opens the buffer after a crash then re-sends only what was not yet answered. If the rewrite fails the segment is
    /// kept as it was (its records are sent again; Langfuse deduplicates them).
    /// </summary>
    void Checkpoint(DurableSegment segment, IReadOnlyList<DurableRecord> remaining);
}

/// <summary>The result of an append.</summary>
internal enum AppendOutcome
{
    /// <summary>On disk and fsynced.</summary>
    Stored,

    /// <summary>The queue is unavailable (directory not private, unusable, or disposed).</summary>
    Unavailable,

    /// <summary>Refused because the byte cap is reached and the policy refuses the newest.</summary>
    Full,

    /// <summary>The write failed (disk full, I/O error); nothing partial was left behind.</summary>
    WriteFailed,
}

/// <summary>A snapshot of what is on disk.</summary>
/// <param name="Segments">Segment files.</param>
/// <param name="Records">Records in them.</param>
/// <param name="Items">Items (observations, scores) in them.</param>
/// <param name="Bytes">Bytes on disk.</param>
/// <param name="OldestCreatedAt">When the oldest record was created, or null when empty.</param>
internal readonly record struct DurableQueueStats(int Segments, long Records, long Items, long Bytes, DateTimeOffset? OldestCreatedAt);

/// <summary>A segment taken for replay.</summary>
internal sealed class DurableSegment
{
    public DurableSegment(string path, IReadOnlyList<DurableRecord> records)
    {
        Path = path;
        Records = records;
    }

    /// <summary>The segment's file.</summary>
    public string Path { get; }

    /// <summary>Its valid records, oldest first.</summary>
    public IReadOnlyList<DurableRecord> Records { get; }
}
