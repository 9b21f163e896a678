using System.Net;

namespace Langfuse.Agents.Benchmarks;

/// <summary>
/// An HTTP handler that never touches the network: it reads the request body to the end (as a real transport
/// would, so lazily produced content is really produced) and answers 200 with an empty body.
/// Both sync <c>Send</c> (OpenTelemetry's exporter uses it) and <c>SendAsync</c> (the Langfuse SDK's) are handled.
/// </summary>
internal sealed class DrainingHandler : HttpMessageHandler
{
    private long _requests;
    private long _bytes;

    public long Requests => Interlocked.Read(ref _requests);

    public long Bytes => Interlocked.Read(ref _bytes);

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } content)
        {
            var counter = new CountingStream();
            content.CopyTo(counter, null, cancellationToken);
            Interlocked.Add(ref _bytes, counter.Length);
        }

        Interlocked.Increment(ref _requests);
        return new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request };
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } content)
        {
            var counter = new CountingStream();
            await content.CopyToAsync(counter, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _bytes, counter.Length);
        }

        Interlocked.Increment(ref _requests);
        return new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request };
    }

    /// <summary>A write-only stream that only counts (Stream.Null does not tell how much was written).</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            _length += count;
            return Task.CompletedTask;
        }
    }
}
