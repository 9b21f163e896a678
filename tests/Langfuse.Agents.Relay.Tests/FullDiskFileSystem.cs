using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>The real file system, except that while <see cref="DiskFull"/> is set every write fails with ENOSPC, and <see cref="HoldWrites"/> makes writes wait.</summary>
internal sealed class FullDiskFileSystem : IDurableFileSystem
{
    private readonly DurableFileSystem _inner = DurableFileSystem.Instance;

    public volatile bool DiskFull;

    private readonly ManualResetEventSlim _open = new(initialState: true);
    private TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Makes the next writes wait (a slow disk); the task completes once one is waiting.</summary>
    public Task HoldWrites()
    {
        _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _open.Reset();
        return _held.Task;
    }

    /// <summary>Lets the held writes go on.</summary>
    public void ReleaseWrites() => _open.Set();

    public void CreateDirectory(string path) => _inner.CreateDirectory(path);

    public UnixFileMode? GetUnixFileMode(string path) => _inner.GetUnixFileMode(path);

    public void SetUnixFileMode(string path, UnixFileMode mode) => _inner.SetUnixFileMode(path, mode);

    public IReadOnlyList<string> GetFiles(string directory) => _inner.GetFiles(directory);

    public long GetLength(string path) => _inner.GetLength(path);

    public DateTimeOffset GetLastWriteTime(string path) => _inner.GetLastWriteTime(path);

    public int ReadPrefix(string path, Span<byte> buffer) => _inner.ReadPrefix(path, buffer);

    public byte[] ReadAll(string path) => _inner.ReadAll(path);

    public Stream CreateNew(string path)
    {
        if (!_open.IsSet)
        {
            _held.TrySetResult();
            _open.Wait();
        }

        return DiskFull ? new FullStream(_inner.CreateNew(path)) : _inner.CreateNew(path);
    }

    public void FlushToDisk(Stream stream) => _inner.FlushToDisk(stream is FullStream full ? full.Inner : stream);

    public void Move(string source, string destination) => _inner.Move(source, destination);

    public void Delete(string path) => _inner.Delete(path);

    public void FlushDirectory(string directory) => _inner.FlushDirectory(directory);

    public IDisposable? TryLockExclusive(string path) => _inner.TryLockExclusive(path);

    private sealed class FullStream(Stream inner) : Stream
    {
        public Stream Inner => inner;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("No space left on device", 28);

        public override void Write(ReadOnlySpan<byte> buffer) => throw new IOException("No space left on device", 28);

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
