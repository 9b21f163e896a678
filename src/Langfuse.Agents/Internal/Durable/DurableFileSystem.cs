namespace Langfuse.Agents.Internal.Durable;

/// <summary>The real file system: private modes on Unix, fsync of files and directories, flock for the replay lock.</summary>
internal sealed class DurableFileSystem : IDurableFileSystem
{
    private const UnixFileMode PrivateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private volatile bool _nativeUnavailable;

    private DurableFileSystem()
    {
    }

    /// <summary>The one instance.</summary>
    public static DurableFileSystem Instance { get; } = new();

    public void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, PrivateDirectoryMode);
        }
    }

    public UnixFileMode? GetUnixFileMode(string path) => OperatingSystem.IsWindows() ? null : File.GetUnixFileMode(path);

    public void SetUnixFileMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    public IReadOnlyList<string> GetFiles(string directory) => Directory.GetFiles(directory);

    public long GetLength(string path) => new FileInfo(path).Length;

    public DateTimeOffset GetLastWriteTime(string path) => new(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);

    public int ReadPrefix(string path, Span<byte> buffer)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[total..], total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    public byte[] ReadAll(string path) => File.ReadAllBytes(path);

    public Stream CreateNew(string path)
    {
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
                throw new IOException($"fsync of the directory failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _nativeUnavailable = true;
        }
    }

    public IDisposable? TryLockExclusive(string path)
    {
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

        if (OperatingSystem.IsWindows() || _nativeUnavailable)
        {
            return stream;
        }

        try
        {
            // Again by hand, in case .NET's own file locking is switched off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING).
            if (DurableNative.TryFlockExclusive(stream.SafeFileHandle))
            {
                return stream;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _nativeUnavailable = true;
            return stream;
        }

        stream.Dispose();
        return null;
    }
}
