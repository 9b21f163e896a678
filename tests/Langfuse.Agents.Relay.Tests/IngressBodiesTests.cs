using System.Buffers.Binary;
using System.IO.Compression;
using Langfuse.Agents.Relay.Internal;
using Microsoft.AspNetCore.Http;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>Finding 5 and must-hold 5: a body is limited by what it inflates to, refused early, within one memory budget.</summary>
public sealed class IngressBodiesTests : IDisposable
{
    private const long Limit = 4_718_592;
    private readonly IngressBodies _bodies = new(TimeSpan.FromSeconds(60), 64L * 1024 * 1024, 2, TimeProvider.System);

    [Fact]
    public async Task Bomb_WithAnHonestTrailer_IsRefusedBeforeInflating()
    {
        var bomb = Bomb(64L << 20); // 64 MiB of zeros, ~64 KB compressed

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        using var result = await _bodies.InflateAsync(bomb, Limit, CancellationToken.None);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        result.Status.ShouldBe(BodyStatus.TooLarge);
        allocated.ShouldBeLessThan(64 * 1024, "nothing is inflated when the trailer already says too large");
        _bodies.InFlightBytes.ShouldBe(0);
    }

    [Fact]
    public async Task Bomb_WithALyingTrailer_IsStoppedAtTheLimit_NotInflatedFully()
    {
        var bomb = Bomb(64L << 20);
        BinaryPrimitives.WriteUInt32LittleEndian(bomb.AsSpan(bomb.Length - 4), 100); // claims 100 bytes

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        using var result = await _bodies.InflateAsync(bomb, Limit, CancellationToken.None);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        result.Status.ShouldBe(BodyStatus.TooLarge);
        allocated.ShouldBeLessThan(3 * Limit, "the buffer grows to the limit and no further");
        _bodies.InFlightBytes.ShouldBe(0);
    }

    [Fact]
    public async Task GzipWithinTheLimit_InflatesExactly_AndHoldsItsBytesUntilDisposed()
    {
        var plain = new byte[300_000];
        new Random(7).NextBytes(plain.AsSpan(0, 1000));

        var result = await _bodies.InflateAsync(Gzip(plain), Limit, CancellationToken.None);

        result.Status.ShouldBe(BodyStatus.Ok);
        result.Body.ToArray().ShouldBe(plain);
        _bodies.InFlightBytes.ShouldBeGreaterThanOrEqualTo(plain.Length);
        result.Dispose();
        _bodies.InFlightBytes.ShouldBe(0);
    }

    [Fact]
    public async Task NotGzip_IsInvalid()
    {
        using var result = await _bodies.InflateAsync(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 }, Limit, CancellationToken.None);

        result.Status.ShouldBe(BodyStatus.Invalid);
        _bodies.InFlightBytes.ShouldBe(0);
    }

    [Fact]
    public async Task BodiesInFlightPastTheBudget_AreOverBudget_UntilOthersAreDone()
    {
        using var small = new IngressBodies(TimeSpan.FromSeconds(60), 1_000_000, 2, TimeProvider.System);
        var held = await small.ReadAsync(Context(new byte[700_000]), Limit);
        held.Status.ShouldBe(BodyStatus.Ok);

        using (var refused = await small.ReadAsync(Context(new byte[700_000]), Limit))
        {
            refused.Status.ShouldBe(BodyStatus.OverBudget);
        }

        held.Dispose();
        using var later = await small.ReadAsync(Context(new byte[700_000]), Limit);
        later.Status.ShouldBe(BodyStatus.Ok);
        later.Body.Length.ShouldBe(700_000);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyOverTheLimit_IsTooLarge_WithOrWithoutADeclaredLength(bool declared)
    {
        using var result = await _bodies.ReadAsync(Context(new byte[1001], declared), 1000);

        result.Status.ShouldBe(BodyStatus.TooLarge);
        _bodies.InFlightBytes.ShouldBe(0);
    }

    [Fact]
    public async Task BodyExactlyAtTheLimit_IsRead()
    {
        using var result = await _bodies.ReadAsync(Context(new byte[1000], declared: false), 1000);

        result.Status.ShouldBe(BodyStatus.Ok);
        result.Body.Length.ShouldBe(1000);
    }

    public void Dispose() => _bodies.Dispose();

    private static DefaultHttpContext Context(byte[] body, bool declared = true)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = declared ? body.Length : null;
        return context;
    }

    private static byte[] Gzip(byte[] plain)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(plain);
        }

        return output.ToArray();
    }

    /// <summary>A gzip member of <paramref name="size"/> zero bytes; its trailer says size mod 2^32.</summary>
    private static byte[] Bomb(long size)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            var zeros = new byte[1 << 20];
            for (long written = 0; written < size; written += zeros.Length)
            {
                gzip.Write(zeros);
            }
        }

        return output.ToArray();
    }
}
