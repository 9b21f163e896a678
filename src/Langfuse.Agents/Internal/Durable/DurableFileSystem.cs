using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// The real file system: private modes on Unix, fsync of files and directories, flock for the replay lock, and a
/// buffer directory that trusts nothing it finds. Every file the queue opens is opened without following a symbolic
/// link and without blocking (<c>O_NOFOLLOW | O_NONBLOCK</c>, see <see cref="DurableNative"/>), then checked on the
/// open descriptor (so nothing can be swapped in between): it must be a regular file owned by this user, and at most
/// its real size (bounded again by the segment header's declared size) is read. Elsewhere than Linux the same checks
/// are made with what .NET offers (symbolic links and directories are refused; owners are not known).
/// </summary>
internal sealed class DurableFileSystem : IDurableFileSystem
{
    private const UnixFileMode PrivateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const int Eisdir = 21;

    private volatile bool _nativeUnavailable;

    private DurableFileSystem()
    {
    }

    /// <summary>The one instance.</summary>
    public static DurableFileSystem Instance { get; } = new();

    /// <summary>
    /// Creates the directory and every missing parent, each with mode 0700 from the moment it exists (one
    /// <c>mkdir(path, 0700)</c> per level, top down), so no directory the SDK creates is ever readable by others.
    /// </summary>
    public void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var missing = new Stack<string>();
        for (var level = Path.GetFullPath(path); !string.IsNullOrEmpty(level) && !Directory.Exists(level); level = Path.GetDirectoryName(level))
        {
            missing.Push(level);
        }

        while (missing.TryPop(out var level))
        {
            Directory.CreateDirectory(level, PrivateDirectoryMode);
        }
    }

    public UnixFileMode? GetUnixFileMode(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var status = GetStatus(path);
        return status.Kind == DurableFileKind.Missing ? throw new FileNotFoundException($"{path} does not exist.") : status.Mode;
    }

    /// <summary>chmod without following a symbolic link (open with O_NOFOLLOW, check the owner, fchmod).</summary>
    public void SetUnixFileMode(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (!NativeAvailable)
        {
            if (new FileInfo(path).LinkTarget is not null)
            {
                throw UntrustedFileException.For(path, "is a symbolic link");
            }

            File.SetUnixFileMode(path, mode);
            return;
        }

        using var handle = OpenChecked(path, createReadWrite: false, expectDirectory: null, out _);
        File.SetUnixFileMode(handle, mode);
    }

    public DurableFileStatus GetStatus(string path)
    {
        if (NativeAvailable)
        {
            if (DurableNative.TryStat(null, path, out var native, out var errno))
            {
                return From(native);
            }

            if (DurableNative.IsNotFoundError(errno))
            {
                return DurableFileStatus.Missing;
            }

            if (errno != 0)
            {
                throw new IOException($"Cannot inspect {path}: {Marshal.GetPInvokeErrorMessage(errno)}.");
            }
        }

        // Without statx: what .NET can tell without following a link (no owner, no FIFOs).
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            return new DurableFileStatus(DurableFileKind.SymbolicLink, null, null, 0, 0);
        }

        if (Directory.Exists(path))
        {
            var directory = new DirectoryInfo(path);
            return new DurableFileStatus(DurableFileKind.Directory, null, OperatingSystem.IsWindows() ? null : directory.UnixFileMode, 0, directory.LastWriteTimeUtc.Ticks);
        }

        return info.Exists
            ? new DurableFileStatus(DurableFileKind.Regular, null, OperatingSystem.IsWindows() ? null : info.UnixFileMode, info.Length, info.LastWriteTimeUtc.Ticks)
            : DurableFileStatus.Missing;
    }

    public IReadOnlyList<string> GetFiles(string directory) => Directory.GetFiles(directory);

    public long GetLength(string path)
    {
        var status = GetStatus(path);
        return status.Kind == DurableFileKind.Regular ? status.Size : throw new FileNotFoundException($"{path} is not a regular file.");
    }

    public DateTimeOffset GetLastWriteTime(string path) => new(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);

    public int ReadPrefix(string path, Span<byte> buffer)
    {
        using var handle = OpenForRead(path, out var size);
        return ReadAt(handle, buffer[..(int)Math.Min(buffer.Length, size)], 0);
    }

    /// <summary>
    /// Reads a segment file: at most its real size at open, and at most the size its header declares; a file larger
    /// than any segment the queue writes is refused rather than read.
    /// </summary>
    public byte[] ReadAll(string path)
    {
        using var handle = OpenForRead(path, out var size);
        Span<byte> prefix = stackalloc byte[DurableFormat.SegmentHeaderSize];
        var prefixRead = ReadAt(handle, prefix[..(int)Math.Min(prefix.Length, size)], 0);
        var limit = DurableFormat.ReadLimit(prefix[..prefixRead], size);
        if (limit > DurableFormat.MaxSegmentBytes)
        {
            throw UntrustedFileException.For(path, $"is larger ({limit} bytes) than any segment the queue writes");
        }

        var data = new byte[limit];
        var read = ReadAt(handle, data, 0);
        return read == data.Length ? data : data[..read]; // it shrank since it was opened
    }

    public Stream CreateNew(string path)
    {
        // O_CREAT | O_EXCL: a symbolic link (or anything else) already at the name fails the create instead of being followed.
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFileMode;
        }

        return new FileStream(path, options);
    }

    public void FlushToDisk(Stream stream)
    {
        if (stream is FileStream file)
        {
            file.Flush(flushToDisk: true);
        }
        else
        {
            stream.Flush();
        }
    }

    public void Move(string source, string destination) => File.Move(source, destination, overwrite: true);

    public void Delete(string path) => File.Delete(path);

    public void FlushDirectory(string directory)
    {
        if (OperatingSystem.IsWindows() || _nativeUnavailable)
        {
            return;
        }

        try
        {
            if (!DurableNative.FsyncDirectory(directory))
            {
                throw new IOException($"fsync of the directory failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _nativeUnavailable = true;
        }
    }

    /// <summary>
    /// Opens (creating 0600 if missing) and flocks the lock file. A symbolic link, a directory, a FIFO or a file owned
    /// by someone else at that name throws <see cref="UntrustedFileException"/>: it is never followed or waited on.
    /// </summary>
    public IDisposable? TryLockExclusive(string path)
    {
        if (NativeAvailable)
        {
            var handle = OpenChecked(path, createReadWrite: true, expectDirectory: false, out _);
            if (TryFlock(handle))
            {
                return handle;
            }

            handle.Dispose();
            return null;
        }

        if (!OperatingSystem.IsWindows() && new FileInfo(path).LinkTarget is not null)
        {
            throw UntrustedFileException.For(path, "is a symbolic link");
        }

        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None, // .NET takes flock(LOCK_EX | LOCK_NB) for this on Unix, and a sharing lock on Windows
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFileMode;
        }

        FileStream stream;
        try
        {
            stream = new FileStream(path, options);
        }
        catch (IOException)
        {
            return null; // held by another process or handle
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            throw UntrustedFileException.For(path, "is a directory, not the lock file");
        }

        if (OperatingSystem.IsWindows() || TryFlock(stream.SafeFileHandle))
        {
            return stream;
        }

        stream.Dispose();
        return null;
    }

    private static bool NativeAvailable => !OperatingSystem.IsWindows() && DurableNative.IsSupported;

    private static DurableFileStatus From(NativeFileStatus native) => new(
        native.Kind,
        native.Uid,
        (UnixFileMode)(native.Mode & 0xFFF),
        native.Size,
        (native.ModifiedSeconds * 1_000_000_000L) + native.ModifiedNanoseconds);

    private static int ReadAt(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>
    /// Opens with O_NOFOLLOW | O_NONBLOCK and checks what was opened: a regular file (or, when
    /// <paramref name="expectDirectory"/> is null, a directory too) owned by this user.
    /// </summary>
    private static SafeFileHandle OpenChecked(string path, bool createReadWrite, bool? expectDirectory, out long size)
    {
        var handle = DurableNative.OpenNoFollow(path, createReadWrite, out var errno);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            if (DurableNative.IsSymbolicLinkError(errno))
            {
                throw UntrustedFileException.For(path, "is a symbolic link, which the Langfuse disk buffer never follows");
            }

            if (errno == Eisdir)
            {
                throw UntrustedFileException.For(path, "is a directory, not a regular file");
            }

            if (DurableNative.IsNotFoundError(errno))
            {
                throw new FileNotFoundException($"{path} does not exist.");
            }

            throw new IOException($"Cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}.");
        }

        try
        {
            if (!DurableNative.TryStat(handle, null, out var status, out errno))
            {
                throw new IOException($"Cannot inspect {path}: {Marshal.GetPInvokeErrorMessage(errno)}.");
            }

            var kind = status.Kind;
            if (kind != DurableFileKind.Regular && !(expectDirectory is null && kind == DurableFileKind.Directory))
            {
                throw UntrustedFileException.For(path, kind switch
                {
                    DurableFileKind.Directory => "is a directory, not a regular file",
                    _ => "is a FIFO, socket or device, not a regular file",
                });
            }

            if (DurableNative.EffectiveUserId is { } me && status.Uid != me)
            {
                throw UntrustedFileException.For(path, $"is owned by uid {status.Uid}, not by this user (uid {me})");
            }

            size = status.Size;
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static SafeFileHandle OpenForRead(string path, out long size)
    {
        if (NativeAvailable)
        {
            return OpenChecked(path, createReadWrite: false, expectDirectory: false, out size);
        }

        if (!OperatingSystem.IsWindows() && new FileInfo(path).LinkTarget is not null)
        {
            throw UntrustedFileException.For(path, "is a symbolic link, which the Langfuse disk buffer never follows");
        }

        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        size = RandomAccess.GetLength(handle);
        return handle;
    }

    private bool TryFlock(SafeHandle handle)
    {
        if (_nativeUnavailable || OperatingSystem.IsWindows())
        {
            return true;
        }

        try
        {
            // Again by hand, in case .NET's own file locking is switched off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING).
            return DurableNative.TryFlockExclusive(handle);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _nativeUnavailable = true;
            return true;
        }
    }
}
