using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Reads request bodies into memory under three bounds, so that no client (or many at once) can make the relay hold
/// more than it decided to: a size limit checked while reading and again while inflating (a gzip body is limited by
/// what it inflates to, and inflation stops at the limit, never inflating a bomb fully); a total time for the whole
/// body (a chunked body that never ends, however fast it trickles, is cut off); and one memory budget shared by every
/// body and inflation in flight (past it, 503 with <c>Retry-After</c>: the client keeps its data). Inflation also runs
/// at most <see cref="InflateSlots"/> at a time, since it is CPU work a small body can ask for in quantity.
/// <para>
/// The garbage collector only runs when something allocates, so after a burst of large bodies (a bomb attack, a
/// backlog of big batches) an idle relay would keep the freed buffers' memory for good. Once more than
/// <see cref="TrimAfterBytes"/> of buffers were released and no body is in flight for <see cref="TrimDelay"/>, one
/// aggressive collection gives that memory back to the operating system (at most once per <see cref="TrimDelay"/>).
/// </para>
/// </summary>
internal sealed class IngressBodies : IDisposable
{
    /// <summary>Released buffer bytes after which an idle relay gives memory back.</summary>
    public const long TrimAfterBytes = 64L * 1024 * 1024;

    /// <summary>How long no body must be in flight before that.</summary>
    public static readonly TimeSpan TrimDelay = TimeSpan.FromSeconds(2);

    private const int FirstBuffer = 16 * 1024;
    private const int MaxFirstBuffer = 1024 * 1024;

    private readonly TimeSpan _bodyTimeout;
    private readonly long _budget;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _inflateSlots;
    private readonly ITimer _trim;
    private long _inFlight;
    private long _releasedSinceTrim;
    private int _reading;
    private int _trimScheduled;

    public IngressBodies(TimeSpan bodyTimeout, long memoryBudget, int inflateSlots, TimeProvider time)
    {
        _bodyTimeout = bodyTimeout;
        _budget = memoryBudget;
        _time = time;
        InflateSlots = inflateSlots;
        _inflateSlots = new SemaphoreSlim(inflateSlots, inflateSlots);
        _trim = time.CreateTimer(static state => ((IngressBodies)state!).Trim(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Aggressive collections run to give memory back after large bodies.</summary>
    public int Trims { get; private set; }

    /// <summary>How many inflations may run at once.</summary>
    public int InflateSlots { get; }

    /// <summary>Bodies being read now (their time limit is running).</summary>
    public int ReadsInProgress => Volatile.Read(ref _reading);

    /// <summary>Bytes of body buffers held by requests in flight now.</summary>
    public long InFlightBytes => Interlocked.Read(ref _inFlight);

    /// <summary>Reads the whole body, at most <paramref name="limit"/> bytes, within the body time limit.</summary>
    public async Task<BodyRead> ReadAsync(HttpContext context, long limit)
    {
        var declared = context.Request.ContentLength;
        if (declared > limit)
        {
            return new BodyRead(BodyStatus.TooLarge, default, null);
        }

        var lease = new Lease(this);
        using var timeout = new CancellationTokenSource(_bodyTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, timeout.Token);
        Interlocked.Increment(ref _reading);
        try
        {
            var first = (int)Math.Min(declared is > 0 ? declared.Value : FirstBuffer, Math.Min(MaxFirstBuffer, limit));
            if (!lease.TryGrow(Math.Max(first, 1)))
            {
                return lease.Fail(BodyStatus.OverBudget);
            }

            var body = context.Request.Body;
            var written = 0;
            var probe = new byte[1];
            while (true)
            {
                if (written == lease.Buffer.Length)
                {
                    // Full: grow only if there is more (an exact Content-Length fills the first buffer exactly).
                    if (await body.ReadAsync(probe, linked.Token) == 0)
                    {
                        return lease.Succeed(written);
                    }

                    if (written >= limit)
                    {
                        return lease.Fail(BodyStatus.TooLarge);
                    }

                    if (!lease.TryGrow((int)Math.Min(limit, (long)written * 2)))
                    {
                        return lease.Fail(BodyStatus.OverBudget);
                    }

                    lease.Buffer[written++] = probe[0];
                    continue;
                }

                var read = await body.ReadAsync(lease.Buffer.AsMemory(written), linked.Token);
                if (read == 0)
                {
                    return lease.Succeed(written);
                }

                written += read;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return lease.Fail(timeout.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested ? BodyStatus.TimedOut : BodyStatus.Aborted);
        }
        finally
        {
            Interlocked.Decrement(ref _reading);
        }
    }

    /// <summary>
    /// Inflates a gzip body, stopping as soon as it would exceed <paramref name="limit"/>. The gzip trailer's size field
    /// refuses an honest bomb before any work; a lying one is stopped at the limit.
    /// </summary>
    public async Task<BodyRead> InflateAsync(ReadOnlyMemory<byte> gzip, long limit, CancellationToken cancellationToken)
    {
        if (gzip.Length < 18 || gzip.Span[0] != 0x1F || gzip.Span[1] != 0x8B)
        {
            return new BodyRead(BodyStatus.Invalid, default, null); // not a gzip member (RFC 1952 magic)
        }

        // ISIZE: the last member's inflated size mod 2^32. A member larger than the limit makes the whole larger.
        var declared = BinaryPrimitives.ReadUInt32LittleEndian(gzip.Span[^4..]);
        if (declared > limit)
        {
            return new BodyRead(BodyStatus.TooLarge, default, null);
        }

        try
        {
            await _inflateSlots.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return new BodyRead(BodyStatus.Aborted, default, null);
        }

        var lease = new Lease(this);
        try
        {
            if (!lease.TryGrow((int)Math.Clamp(declared, FirstBuffer, Math.Min(limit, int.MaxValue))))
            {
                return lease.Fail(BodyStatus.OverBudget);
            }

            using var inflater = new GZipStream(new ReadOnlyMemoryStream(gzip), CompressionMode.Decompress);
            var written = 0;
            Span<byte> probe = stackalloc byte[1];
            while (true)
            {
                if (written == lease.Buffer.Length)
                {
                    // Full: grow only if there is more (an honest trailer sized the buffer exactly).
                    if (inflater.Read(probe) == 0)
                    {
                        return lease.Succeed(written);
                    }

                    if (written >= limit)
                    {
                        return lease.Fail(BodyStatus.TooLarge);
                    }

                    if (!lease.TryGrow((int)Math.Min(limit, (long)written * 2)))
                    {
                        return lease.Fail(BodyStatus.OverBudget);
                    }

                    lease.Buffer[written++] = probe[0];
                    continue;
                }

                var read = inflater.Read(lease.Buffer.AsSpan(written));
                if (read == 0)
                {
                    return lease.Succeed(written);
                }

                written += read;
            }
        }
        catch (InvalidDataException)
        {
            return lease.Fail(BodyStatus.Invalid);
        }
        finally
        {
            _inflateSlots.Release();
        }
    }

    public void Dispose()
    {
        _trim.Dispose();
        _inflateSlots.Dispose();
    }

    private void Trim()
    {
        if (Interlocked.Read(ref _inFlight) > 0)
        {
            _trim.Change(TrimDelay, Timeout.InfiniteTimeSpan); // still busy: look again later
            return;
        }

        Interlocked.Exchange(ref _releasedSinceTrim, 0);
        Volatile.Write(ref _trimScheduled, 0);
        Trims++;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    private bool TryReserve(long bytes)
    {
        if (Interlocked.Add(ref _inFlight, bytes) <= _budget)
        {
            return true;
        }

        Interlocked.Add(ref _inFlight, -bytes);
        return false;
    }

    private void Return(long bytes)
    {
        if (bytes <= 0)
        {
            return;
        }

        Interlocked.Add(ref _inFlight, -bytes);
        if (Interlocked.Add(ref _releasedSinceTrim, bytes) > TrimAfterBytes && Interlocked.Exchange(ref _trimScheduled, 1) == 0)
        {
            _trim.Change(TrimDelay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>A growing buffer whose bytes are counted against the budget until disposed.</summary>
    internal sealed class Lease(IngressBodies owner) : IDisposable
    {
        private long _reserved;

        public byte[] Buffer { get; private set; } = [];

        public bool TryGrow(int capacity)
        {
            if (!owner.TryReserve(capacity))
            {
                return false;
            }

            var grown = GC.AllocateUninitializedArray<byte>(capacity);
            Buffer.CopyTo(grown, 0);
            owner.Return(_reserved); // the old buffer becomes garbage; only the new one is held
            _reserved = capacity;
            Buffer = grown;
            return true;
        }

        public BodyRead Succeed(int length) => new(BodyStatus.Ok, Buffer.AsMemory(0, length), this);

        public BodyRead Fail(BodyStatus status)
        {
            Dispose();
            return new BodyRead(status, default, null);
        }

        public void Dispose()
        {
            owner.Return(Interlocked.Exchange(ref _reserved, 0));
            Buffer = [];
        }
    }

    /// <summary>A read-only stream over memory, so inflation reads the received bytes without copying them.</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => memory.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = Math.Min(buffer.Length, memory.Length - _position);
            memory.Span.Slice(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
