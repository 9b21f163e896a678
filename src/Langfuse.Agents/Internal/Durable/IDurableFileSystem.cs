namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// The few file operations the durable queue uses, so tests can inject the faults an OS will not produce on demand
/// (disk full, a failing rename or fsync, a directory that cannot be made private). Members throw what
/// <see cref="File"/> and <see cref="FileStream"/> throw; the queue catches.
/// </summary>
internal interface IDurableFileSystem
{
    /// <summary>Creates the directory and each missing parent with mode 0700 where modes exist; nothing if it exists.</summary>
    void CreateDirectory(string path);

    /// <summary>The directory's Unix mode, or null where there are none (Windows).</summary>
    UnixFileMode? GetUnixFileMode(string path);

    /// <summary>
    /// Changes a Unix mode without following a symbolic link (fails with <see cref="UnauthorizedAccessException"/>
    /// when not the owner, <see cref="UntrustedFileException"/> for a link or another user's file).
    /// </summary>
    void SetUnixFileMode(string path, UnixFileMode mode);

    /// <summary>What is at <paramref name="path"/> (type, owner, mode, size), without following a symbolic link.</summary>
    DurableFileStatus GetStatus(string path) => DurableFileSystem.Instance.GetStatus(path);

    /// <summary>The full paths of the files (not subdirectories) in a directory.</summary>
    IReadOnlyList<string> GetFiles(string directory);

    /// <summary>The file's length in bytes.</summary>
    long GetLength(string path);

    /// <summary>When the file was last written, UTC.</summary>
    DateTimeOffset GetLastWriteTime(string path);

    /// <summary>
    /// Reads up to <paramref name="buffer"/>'s length from the start of the file; returns how many bytes were read.
    /// Refuses (<see cref="UntrustedFileException"/>) what is not a regular file owned by this user, never following a
    /// link nor waiting on a FIFO.
    /// </summary>
    int ReadPrefix(string path, Span<byte> buffer);

    /// <summary>
    /// Reads a segment file, bounded by its real size and its header's declared size, with the checks of
    /// <see cref="ReadPrefix"/>.
    /// </summary>
    byte[] ReadAll(string path);

    /// <summary>Creates a new file (failing if it exists) with mode 0600 where modes exist, open for writing.</summary>
    Stream CreateNew(string path);

    /// <summary>Flushes a stream from <see cref="CreateNew"/> to the device (fsync).</summary>
    void FlushToDisk(Stream stream);

    /// <summary>Renames a file, replacing the destination: atomic on one file system (<c>rename(2)</c>).</summary>
    void Move(string source, string destination);

    /// <summary>Deletes a file; nothing if it does not exist.</summary>
    void Delete(string path);

    /// <summary>Makes renames and creations in the directory durable (fsync of the directory) where the OS allows it.</summary>
    void FlushDirectory(string directory);

    /// <summary>
    /// Takes an exclusive lock on the file (created if missing) that other processes, and other handles in this
    /// process, cannot take while it is held; null when someone else holds it. Disposing releases it; so does the
    /// death of the process. Something other than a regular file owned by this user at that name throws
    /// <see cref="UntrustedFileException"/>.
    /// </summary>
    IDisposable? TryLockExclusive(string path);
}
