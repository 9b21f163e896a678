namespace Langfuse.Agents.Internal.Http;

/// <summary>
/// A read-only view of a stream that refuses to yield more than a fixed number of bytes: reading past the limit throws
/// <see cref="BodyTooLargeException"/>, so a parser fed through it can never be made to allocate more than the limit
/// allows, whatever the other side sends.
/// </summary>
internal sealed class BoundedReadStream(Stream inner, long limit) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer[..Allowed(buffer.Length)]);
        return Count(read);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken).ConfigureAwait(false);
        return Count(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>
    /// One byte more than the limit is asked for, so a body of exactly the limit is read whole and a longer one is
    /// noticed without reading further.
    /// </summary>
    private int Allowed(int requested)
    {
        var left = limit + 1 - _read;
        return left <= 0 ? 0 : (int)Math.Min(requested, left);
    }

    private int Count(int read)
    {
        _read += read;
        if (_read > limit)
        {
            throw new BodyTooLargeException(limit);
        }

        return read;
    }
}
