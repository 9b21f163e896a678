using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Decides whether a buffer directory may be used, and makes it private. What is refused, with one log line saying
/// why: a symbolic link (never followed: another user may have planted it where the SDK's per-host directory goes),
/// something other than a directory, a directory owned by another user (its owner can read and change everything in
/// it), a directory that cannot be made 0700, and a <c>replay.lock</c> that is not a regular file of this user's
/// (with it nothing could ever be replayed). A directory of this user's that was writable by others is made 0700
/// and used, with a warning; whatever others put in it is refused file by file (see <see cref="DurableFileSystem"/>).
/// </summary>
internal static class BufferDirectoryGuard
{
    private const UnixFileMode PrivateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private const UnixFileMode WritableByOthers = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <summary>Creates (0700, parents too) and checks the directory; false, having logged why, when it must not be used.</summary>
    public static bool TryPrepare(IDurableFileSystem files, string directory, string lockFileName, ILogger logger)
    {
        var existing = files.GetStatus(directory);
        if (existing.Kind == DurableFileKind.SymbolicLink)
        {
            // Checked before creating: CreateDirectory would accept a link to a directory as existing.
            DurableLog.Refused(logger, directory, "is a symbolic link, which the Langfuse disk buffer never follows (another user may have put it there)");
            return false;
        }

        files.CreateDirectory(directory);
        var status = files.GetStatus(directory);
        var refusal = status.Kind switch
        {
            DurableFileKind.Directory => OwnerProblem(status),
            DurableFileKind.SymbolicLink => "is a symbolic link, which the Langfuse disk buffer never follows (another user may have put it there)",
            DurableFileKind.Missing => "disappeared while it was being created",
            _ => "is not a directory",
        };
        if (refusal is not null)
        {
            DurableLog.Refused(logger, directory, refusal);
            return false;
        }

        if (!MakePrivate(files, directory, status, logger))
        {
            return false;
        }

        var lockStatus = files.GetStatus(Path.Combine(directory, lockFileName));
        var lockProblem = lockStatus.Kind switch
        {
            DurableFileKind.Missing => null,
            DurableFileKind.Regular => OwnerProblem(lockStatus),
            DurableFileKind.Directory => "is a directory",
            DurableFileKind.SymbolicLink => "is a symbolic link",
            _ => "is a FIFO, socket or device",
        };
        if (lockProblem is not null)
        {
            DurableLog.Refused(logger, directory, $"holds a {lockFileName} that {lockProblem}, not a regular file of this user's, so nothing could be replayed from it (remove it)");
            return false;
        }

        return true;
    }

    /// <summary>Null when the owner is this user (or owners are not known here), else why not.</summary>
    public static string? OwnerProblem(DurableFileStatus status) =>
        status.OwnerId is { } owner && DurableNative.EffectiveUserId is { } me && owner != me
            ? $"is owned by uid {owner}, not by this user (uid {me})"
            : null;

    /// <summary>
    /// Makes the directory 0700. The chmod is done even when the mode already looks private: it fails for a
    /// directory owned by someone else, which must not be used either.
    /// </summary>
    private static bool MakePrivate(IDurableFileSystem files, string directory, DurableFileStatus status, ILogger logger)
    {
        var mode = status.Mode ?? files.GetUnixFileMode(directory);
        if (mode is null)
        {
            return true; // Windows: the directory inherits the ACL of its parent (the user's profile by default).
        }

        try
        {
            files.SetUnixFileMode(directory, PrivateDirectoryMode);
            var now = files.GetUnixFileMode(directory);
            if (now is { } after && (after & GroupOrOther) != 0)
            {
                DurableLog.NotPrivate(logger, directory, FormatMode(after), "the file system ignored chmod");
                return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            DurableLog.NotPrivate(logger, directory, FormatMode(mode.Value), e.Message);
            return false;
        }

        if ((mode.Value & WritableByOthers) != 0)
        {
            DurableLog.WasShared(logger, directory, FormatMode(mode.Value));
        }

        return true;
    }

    private static string FormatMode(UnixFileMode mode) => Convert.ToString((int)mode, 8);
}
