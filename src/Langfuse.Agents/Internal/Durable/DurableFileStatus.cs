namespace Langfuse.Agents.Internal.Durable;

/// <summary>What the file system says of a path, without following a symbolic link.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="OwnerId">The owner's uid, or null where it is not known (Windows, or no <c>statx</c>).</param>
/// <param name="Mode">The permission bits, or null where there are none (Windows).</param>
/// <param name="Size">Bytes (of a regular file).</param>
/// <param name="Stamp">Changes whenever the entry is modified (for a directory: an entry added, removed or renamed); 0 when unknown.</param>
internal readonly record struct DurableFileStatus(DurableFileKind Kind, uint? OwnerId, UnixFileMode? Mode, long Size, long Stamp)
{
    /// <summary>Nothing at the path.</summary>
    public static DurableFileStatus Missing => new(DurableFileKind.Missing, null, null, 0, 0);
}
