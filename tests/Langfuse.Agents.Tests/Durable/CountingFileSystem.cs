using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>The real file system, counting the directory listings and whole-file reads the queue asks for.</summary>
internal sealed class CountingFileSystem : IDurableFileSystem
{
    private readonly DurableFileSystem _inner = DurableFileSystem.Instance;
    private int _listings;
    private int _reads;

    public int Listings => Volatile.Read(ref _listings);

    public int Reads => Volatile.Read(ref _reads);

    public void CreateDirectory(string path) => _inner.CreateDirectory(path);

    public UnixFileMode? GetUnixFileMode(string path) => _inner.GetUnixFileMode(path);

    public void SetUnixFileMode(string path, UnixFileMode mode) => _inner.SetUnixFileMode(path, mode);

    public IReadOnlyList<string> GetFiles(string directory)
    {
        Interlocked.Increment(ref _listings);
        return _inner.GetFiles(directory);
    }

    public long GetLength(string path) => _inner.GetLength(path);

    public DateTimeOffset GetLastWriteTime(string path) => _inner.GetLastWriteTime(path);

    public int ReadPrefix(string path, Span<byte> buffer) => _inner.ReadPrefix(path, buffer);

    public byte[] ReadAll(string path)
    {
        Interlocked.Increment(ref _reads);
        return _inner.ReadAll(path);
    }

    public Stream CreateNew(string path) => _inner.CreateNew(path);

    public void FlushToDisk(Stream stream) => _inner.FlushToDisk(stream);

    public void Move(string source, string destination) => _inner.Move(source, destination);

    public void Delete(string path) => _inner.Delete(path);

    public void FlushDirectory(string directory) => _inner.FlushDirectory(directory);

    public IDisposable? TryLockExclusive(string path) => _inner.TryLockExclusive(path);
}
