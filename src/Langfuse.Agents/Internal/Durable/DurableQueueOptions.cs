namespace Langfuse.Agents.Internal.Durable;

/// <summary>How a <see cref="DurableQueue"/> stores its segments. Defaults are for one SDK process or one relay.</summary>
internal sealed class DurableQueueOptions
{
    /// <summary>The default byte cap: 50 MiB.</summary>
    public const long DefaultMaxBytes = 50L * 1024 * 1024;

    /// <summary>The default retention: 48 hours.</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromHours(48);

    /// <summary>The default age after which a leftover temporary file is deleted: 1 hour.</summary>
    public static readonly TimeSpan DefaultStaleTemporaryAge = TimeSpan.FromHours(1);

    /// <summary>
    /// The directory holding the segments (created with mode 0700 if missing; an existing one is made 0700, and the
    /// queue refuses to buffer there if that fails). Required.
    /// </summary>
    public required string Directory { get; init; }

    /// <summary>The most bytes of segment files this process keeps on disk. Default <see cref="DefaultMaxBytes"/>.</summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    /// <summary>What an append does when the cap is reached. Default <see cref="DurableFullPolicy.DropOldest"/>.</summary>
    public DurableFullPolicy FullPolicy { get; init; } = DurableFullPolicy.DropOldest;

    /// <summary>
    /// Segments whose records are all older than this (by <see cref="DurableRecord.CreatedAt"/>) are deleted and their
    /// items counted as <see cref="DropReason.Expired"/>, checked on every append and every take. Default 48 h.
    /// </summary>
    public TimeSpan Retention { get; init; } = DefaultRetention;

    /// <summary>
    /// The fsync policy. True (the default): a segment is written to <c>&lt;name&gt;.&lt;pid&gt;.tmp</c>, fsynced
    /// (<c>FileStream.Flush(flushToDisk: true)</c>), renamed to its final name, and then the directory is fsynced
    /// (Unix: <c>opendir</c> + <c>fsync(dirfd)</c>; Windows has no directory fsync and NTFS journals the rename) before
    /// <see cref="AppendOutcome.Stored"/> is returned, so an acknowledged append survives power loss. False skips both
    /// fsyncs: the write is still atomic (temporary file and rename) and survives a process crash, but a power loss
    /// may lose the most recent segments. Deletes (complete, expiry, eviction) are never fsynced: a deleted segment
    /// that reappears after a power loss is only sent again, and Langfuse deduplicates it.
    /// </summary>
    public bool FsyncBeforeRename { get; init; } = true;

    /// <summary>
    /// A temporary file older than this is a leftover of a crashed writer and is deleted when the queue opens (one
    /// whose writer process no longer exists is deleted at once). Default 1 h.
    /// </summary>
    public TimeSpan StaleTemporaryAge { get; init; } = DefaultStaleTemporaryAge;
}
