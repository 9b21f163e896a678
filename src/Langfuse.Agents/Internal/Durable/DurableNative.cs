using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// The POSIX calls .NET does not expose, used only on Unix-like systems (a missing entry point makes the caller fall
/// back to what .NET offers):
/// <list type="bullet">
/// <item>fsync of a directory (.NET refuses to open a directory as a file handle);</item>
/// <item><c>flock</c> (.NET takes one for <see cref="FileShare.None"/>, but not when file locking is disabled by
/// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>, so the queue takes its own);</item>
/// <item><c>open</c> with <c>O_NOFOLLOW | O_NONBLOCK</c> (a symbolic link is refused instead of followed, a FIFO
/// opens at once instead of waiting for a writer) and <c>statx</c> (file type, owner and size of what was opened, or
/// of a path without following a link): .NET has neither the flags nor the owner. Linux only (the flag values and
/// <c>statx</c> are Linux's); elsewhere <see cref="OpenNoFollow"/> and <see cref="TryStat"/> report
/// <see cref="IsSupported"/> false.</item>
/// </list>
/// </summary>
internal static class DurableNative
{
    private const int LockExclusive = 2; // LOCK_EX, the same on Linux, macOS and the BSDs
    private const int LockNonBlocking = 4; // LOCK_NB

    private const int ORdOnly = 0;
    private const int ORdWr = 2;
    private const int OCreat = 0x40; // 0100, all Linux architectures
    private const int ONonBlock = 0x800; // 04000, all Linux architectures
    private const int OCloExec = 0x80000; // 02000000, all Linux architectures
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7FF;
    private const int StatxSize = 256;
    private const int Eloop = 40;
    private const int Enoent = 2;
    private const int Enotdir = 20;

    private static readonly bool s_linux = OperatingSystem.IsLinux();

    private static volatile bool s_missing;

    /// <summary>True where <see cref="OpenNoFollow"/> and <see cref="TryStat"/> work (Linux with a libc that has <c>statx</c>).</summary>
    public static bool IsSupported => s_linux && !s_missing;

    /// <summary>The effective user id of this process, or null where there is none (Windows) or it is unknown.</summary>
    public static uint? EffectiveUserId
    {
        get
        {
            if (OperatingSystem.IsWindows() || s_missing)
            {
                return null;
            }

            try
            {
                return geteuid();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return null;
            }
        }
    }

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

    /// <summary>
    /// Opens <paramref name="path"/> without following a symbolic link in its last component and without blocking
    /// (a FIFO opens at once), read-only, or read-write and created 0600 if missing when <paramref name="createReadWrite"/>.
    /// Returns the handle and the errno (0 on success); an invalid handle on failure. Linux only.
    /// </summary>
    public static SafeFileHandle OpenNoFollow(string path, bool createReadWrite, out int errno)
    {
        var flags = (createReadWrite ? ORdWr | OCreat : ORdOnly) | ONonBlock | OCloExec | NoFollowFlag;
        var fd = open(path, flags, createReadWrite ? 0x180 : 0); // 0600
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>True for the errno of a refused symbolic link (<c>ELOOP</c> under <c>O_NOFOLLOW</c>).</summary>
    public static bool IsSymbolicLinkError(int errno) => errno == Eloop;

    /// <summary>True for the errno of a path that does not exist.</summary>
    public static bool IsNotFoundError(int errno) => errno is Enoent or Enotdir;

    /// <summary>The status of an open file (fstat), or of a path without following a final symbolic link (lstat).</summary>
    public static bool TryStat(SafeFileHandle? handle, string? path, out NativeFileStatus status, out int errno)
    {
        status = default;
        errno = 0;
        if (!s_linux || s_missing)
        {
            return false;
        }

        var buffer = new byte[StatxSize];
        int result;
        try
        {
            if (handle is not null)
            {
                var added = false;
                handle.DangerousAddRef(ref added);
                try
                {
                    result = statx((int)handle.DangerousGetHandle(), string.Empty, AtEmptyPath, StatxBasicStats, buffer);
                }
                finally
                {
                    if (added)
                    {
                        handle.DangerousRelease();
                    }
                }
            }
            else
            {
                result = statx(AtFdCwd, path ?? string.Empty, AtSymlinkNoFollow, StatxBasicStats, buffer);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_missing = true;
            return false;
        }

        if (result != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return false;
        }

        // struct statx (linux/stat.h), the same layout on every architecture.
        var span = buffer.AsSpan();
        status = new NativeFileStatus(
            Mode: System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(span[28..]),
            Uid: System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(span[20..]),
            Size: System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(span[40..]),
            ModifiedSeconds: System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(span[112..]),
            ModifiedNanoseconds: System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(span[120..]),
            Inode: System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(span[32..]));
        return true;
    }

    // O_NOFOLLOW differs between Linux architectures: 0400000 on x86 and most others, 0100000 on ARM and arm64.
    private static int NoFollowFlag => RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 ? 0x8000 : 0x20000;

#pragma warning disable SYSLIB1054, CA5392, CA2101 // LibraryImport would need unsafe blocks for strings here; libc is a system library.
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

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);

    [DllImport("libc")]
    private static extern uint geteuid();
#pragma warning restore SYSLIB1054, CA5392, CA2101
}

/// <summary>What <c>statx</c> says of a file: type and permission bits, owner, size, modification time, inode.</summary>
internal readonly record struct NativeFileStatus(ushort Mode, uint Uid, long Size, long ModifiedSeconds, uint ModifiedNanoseconds, ulong Inode)
{
    private const int TypeMask = 0xF000; // S_IFMT

    /// <summary>The file type.</summary>
    public DurableFileKind Kind => (Mode & TypeMask) switch
    {
        0x8000 => DurableFileKind.Regular,
        0x4000 => DurableFileKind.Directory,
        0xA000 => DurableFileKind.SymbolicLink,
        _ => DurableFileKind.Other,
    };
}
