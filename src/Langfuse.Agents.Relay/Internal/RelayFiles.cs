using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Opens the files the relay owns in its buffer directory (<c>relay.lock</c>, <c>dead-letter.jsonl</c>) without trusting
/// what it finds there: never through a symbolic link (<c>O_NOFOLLOW</c>), never blocking on a FIFO
/// (<c>O_NONBLOCK</c>), and only a regular file owned by this user. .NET has no API for these, so on Linux and macOS
/// the file is opened with <c>open(2)</c> and checked with <c>statx(2)</c> (Linux) on the open descriptor, so nothing
/// can be swapped in between the check and the use. Elsewhere the link check is made on the path first.
/// </summary>
internal static class RelayFiles
{
    /// <summary>Opens (creating with mode 0600) for appending. Throws <see cref="IOException"/> saying why it refused.</summary>
    public static FileStream OpenAppend(string path) => Open(path, FileAccess.Write, append: true);

    /// <summary>Opens an existing file for reading. Throws <see cref="IOException"/> saying why it refused.</summary>
    public static FileStream OpenRead(string path) => Open(path, FileAccess.Read, append: false);

    /// <summary>Opens (creating with mode 0600) for reading and writing, for a lock. Throws <see cref="IOException"/> saying why it refused.</summary>
    public static FileStream OpenForLock(string path) => Open(path, FileAccess.ReadWrite, append: false);

    /// <summary>Takes an exclusive, non-blocking lock on a file from <see cref="OpenForLock"/>; false when another process holds it.</summary>
    public static bool TryLock(FileStream stream)
    {
        if (OperatingSystem.IsWindows())
        {
            return true; // opened with FileShare.None: the open itself was the lock
        }

        var handle = stream.SafeFileHandle;
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return flock((int)handle.DangerousGetHandle(), LockExclusive | LockNonBlocking) == 0;
        }
        catch (EntryPointNotFoundException)
        {
            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static FileStream Open(string path, FileAccess access, bool append)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            return OpenUnix(path, access, append);
        }

        // No O_NOFOLLOW here: refuse a link found on the path, then open.
        if (new FileInfo(path) is { Exists: true, LinkTarget: not null })
        {
            throw new IOException($"{path} is a symbolic link; the relay does not follow links in its directory. Remove it.");
        }

        return new FileStream(path, new FileStreamOptions
        {
            Mode = append ? FileMode.Append : access == FileAccess.Read ? FileMode.Open : FileMode.OpenOrCreate,
            Access = access,
            Share = append || access == FileAccess.Read ? FileShare.Read : FileShare.None,
        });
    }

    private static FileStream OpenUnix(string path, FileAccess access, bool append)
    {
        var flags = OpenFlags.For(access, append);
        var fd = open(path, flags, 0x180); // 0600
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException(Describe(path, errno), errno);
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            CheckRegularAndOwned(path, handle);
            return new FileStream(handle, access, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void CheckRegularAndOwned(string path, SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // O_NOFOLLOW and O_NONBLOCK already refused links and FIFOs without a reader
        }

        var buffer = new byte[256]; // struct statx: the same layout on every Linux architecture
        int result;
        try
        {
            result = statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxType | StatxUid, buffer);
        }
        catch (EntryPointNotFoundException)
        {
            return; // a C library without statx: the open flags are the protection
        }

        if (result != 0)
        {
            return;
        }

        var mode = BitConverter.ToUInt16(buffer, 28);
        if ((mode & 0xF000) != 0x8000)
        {
            throw new IOException($"{path} is not a regular file (a directory, FIFO or device was found in its place). Remove it.");
        }

        var uid = BitConverter.ToUInt32(buffer, 20);
        if (uid != geteuid())
        {
            throw new IOException($"{path} belongs to another user (uid {uid}); the relay only uses its own files. Remove it.");
        }
    }

    private static string Describe(string path, int errno) => errno switch
    {
        ErrnoLoop or ErrnoMLink => $"{path} is a symbolic link; the relay does not follow links in its directory. Remove it.",
        ErrnoIsDir => $"{path} is a directory, not a file. Remove it.",
        ErrnoNxio => $"{path} is a FIFO or socket, not a file. Remove it.",
        ErrnoAccess or ErrnoPerm => $"{path} cannot be opened: permission denied.",
        _ => $"{path} cannot be opened ({Marshal.GetPInvokeErrorMessage(errno)}).",
    };

    private const int ErrnoPerm = 1;
    private const int ErrnoNxio = 6;
    private const int ErrnoAccess = 13;
    private const int ErrnoIsDir = 21;
    private const int ErrnoLoop = 40; // Linux; macOS says 62
    private const int ErrnoMLink = 31; // what FreeBSD answers for O_NOFOLLOW on a link
    private const int AtEmptyPath = 0x1000;
    private const int LockExclusive = 2; // LOCK_EX, the same on Linux, macOS and the BSDs
    private const int LockNonBlocking = 4; // LOCK_NB
    private const uint StatxType = 0x1;
    private const uint StatxUid = 0x8;

    /// <summary><c>open(2)</c> flags, which differ between Linux architectures and macOS.</summary>
    private static class OpenFlags
    {
        public static int For(FileAccess access, bool append)
        {
            var macOs = OperatingSystem.IsMacOS();
            var arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;
            var flags = access switch { FileAccess.ReadWrite => 2, FileAccess.Write => 1, _ => 0 }; // O_RDWR, O_WRONLY, O_RDONLY
            if (access != FileAccess.Read)
            {
                flags |= macOs ? 0x200 : 0x40; // O_CREAT
            }

            flags |= macOs ? 0x4 : 0x800; // O_NONBLOCK
            flags |= macOs ? 0x100 : arm ? 0x8000 : 0x20000; // O_NOFOLLOW
            flags |= macOs ? 0x1000000 : 0x80000; // O_CLOEXEC
            if (append)
            {
                flags |= macOs ? 0x8 : 0x400; // O_APPEND
            }

            return flags;
        }
    }

#pragma warning disable SYSLIB1054, CA5392, CA2101, CA1401 // LibraryImport would need unsafe blocks in this project; libc is a system library.
    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    [DllImport("libc")]
    private static extern uint geteuid();

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);
#pragma warning restore SYSLIB1054, CA5392, CA2101, CA1401
}
