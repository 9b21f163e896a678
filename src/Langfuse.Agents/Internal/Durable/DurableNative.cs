using System.Runtime.InteropServices;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// The two POSIX calls .NET does not expose: fsync of a directory (.NET refuses to open a directory as a file
/// handle) and <c>flock</c> (.NET takes one for <see cref="FileShare.None"/>, but not when file locking is disabled by
/// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>, so the queue takes its own as well). Only called on Unix-like systems;
/// a missing entry point makes the caller skip the call.
/// </summary>
internal static class DurableNative
{
    private const int LockExclusive = 2; // LOCK_EX, the same on Linux, macOS and the BSDs
    private const int LockNonBlocking = 4; // LOCK_NB

    /// <summary>fsyncs a directory; false when it could not.</summary>
    public static bool FsyncDirectory(string path)
    {
        var dir = opendir(path);
        if (dir == IntPtr.Zero)
        {
            return false;
        }

        try
        {
            var fd = dirfd(dir);
            return fd >= 0 && fsync(fd) == 0;
        }
        finally
        {
            _ = closedir(dir);
        }
    }

    /// <summary>Takes an exclusive, non-blocking flock on an open file; false when another open file holds it.</summary>
    public static bool TryFlockExclusive(SafeHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return flock((int)handle.DangerousGetHandle(), LockExclusive | LockNonBlocking) == 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

#pragma warning disable SYSLIB1054, CA5392, CA2101 // LibraryImport would need unsafe blocks in this project; libc is a system library.
    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr opendir([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", SetLastError = true)]
    private static extern int dirfd(IntPtr dir);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int closedir(IntPtr dir);

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);
#pragma warning restore SYSLIB1054, CA5392, CA2101
}
