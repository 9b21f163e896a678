using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// The real file system, with the faults an OS will not produce on demand: a full disk (a write puts half its bytes
/// down, then fails with ENOSPC), a failing rename, a failing fsync, a create refused, a chmod refused (a directory
/// owned by someone else; as root, a real one cannot be made).
/// </summary>
internal sealed class FaultyFileSystem : IDurableFileSystem
{
    private const int Enospc = 28;
    private const int Eio = 5;

    private readonly DurableFileSystem _inner = DurableFileSystem.Instance;

    /// <summary>Writes fail with "No space left on device" (HResult 28, as .NET reports ENOSPC on Unix) after writing half their bytes.</summary>
    public bool DiskFull { get; set; }

    public bool FailRenames { get; set; }

    public bool FailFlushes { get; set; }

    public bool FailCreates { get; set; }

    public bool FailChmod { get; set; }

    /// <summary>
    /// The next write puts half its bytes down and fails, and the temporary file it wrote stays (its delete fails):
    /// what a process killed in the middle of an append leaves behind.
    /// </summary>
    public bool TearNextWrite { get; set; }

    /// <summary>The temporary file the last torn write left.</summary>
    public string? TornPath { get; private set; }

    public int FailedWrites { get; private set; }

    public void CreateDirectory(string path) => _inner.CreateDirectory(path);

    public UnixFileMode? GetUnixFileMode(string path) => _inner.GetUnixFileMode(path);

    public void SetUnixFileMode(string path, UnixFileMode mode)
    {
        if (FailChmod)
        {
            throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
        }

        _inner.SetUnixFileMode(path, mode);
    }

    public IReadOnlyList<string> GetFiles(string directory) => _inner.GetFiles(directory);

    public long GetLength(string path) => _inner.GetLength(path);

    public DateTimeOffset GetLastWriteTime(string path) => _inner.GetLastWriteTime(path);

    public int ReadPrefix(string path, Span<byte> buffer) => _inner.ReadPrefix(path, buffer);

    public byte[] ReadAll(string path) => _inner.ReadAll(path);

    public Stream CreateNew(string path)
    {
        if (FailCreates)
        {
            throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
        }

        return new FaultyStream(this, _inner.CreateNew(path), path);
    }

    public void FlushToDisk(Stream stream)
    {
        if (FailFlushes)
        {
            throw new IOException("Input/output error", Eio);
        }

        _inner.FlushToDisk(((FaultyStream)stream).Inner);
    }

    public void Move(string source, string destination)
    {
        if (FailRenames)
        {
            throw new IOException("Input/output error", Eio);
        }

        _inner.Move(source, destination);
    }

    public void Delete(string path)
    {
        if (path == TornPath)
        {
            throw new IOException("Input/output error (the writer is dead)", Eio);
        }

        _inner.Delete(path);
    }

    public void FlushDirectory(string directory) => _inner.FlushDirectory(directory);

    public IDisposable? TryLockExclusive(string path) => _inner.TryLockExclusive(path);

    private sealed class FaultyStream(FaultyFileSystem owner, Stream inner, string path) : Stream
    {
        public Stream Inner { get; } = inner;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (owner.TearNextWrite)
            {
                owner.TearNextWrite = false;
                owner.TornPath = path;
                Inner.Write(buffer[..(buffer.Length / 2)]);
                Inner.Flush();
                throw new IOException("killed mid-write", Eio);
            }

            if (owner.DiskFull)
            {
                Inner.Write(buffer[..(buffer.Length / 2)]);
                owner.FailedWrites++;
                throw new IOException("No space left on device", Enospc);
            }

            Inner.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush() => Inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
