using System.Buffers.Binary;
using System.IO.Compression;
using System.Net.Http.Headers;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>
/// Must-hold 5: the relay's memory during 64 concurrent gzip bombs, measured on the relay child process itself
/// (<c>/proc/PID/status</c>), because what matters is what the operating system sees the relay hold, GC included.
/// A process test rather than a bench tool: the bound is a correctness property (the relay must not be killable by
/// a few hundred kilobytes of requests) and the figure is stable enough to assert with a wide margin.
/// </summary>
public sealed class MemoryBoundTests(ITestOutputHelper output)
{
    /// <summary>What the relay may hold at its peak while 64 bombs arrive at once (it held 1,975 MB before).</summary>
    private const long PeakBound = 400L * 1024 * 1024;

    /// <summary>What it may still hold above its idle figure once the bombs are refused (it held 1,635 MB before).</summary>
    private const long SettledBound = 96L * 1024 * 1024;

    [Fact]
    public async Task SixtyFourConcurrentGzipBombs_AreRefused_WithinTheMemoryBound_AndTheMemoryReturns()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // /proc is Linux's
        }

        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        using var buffer = new TempDirectory();
        await using var relay = await RelayProcess.StartAsync(new RelayConfig(upstream, buffer.Path));
        using var client = relay.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(2);

        var warmUp = Payload.OtlpProtobuf(5);
        using (var request = warmUp.ToRequest())
        using (var response = await client.SendAsync(request))
        {
            ((int)response.StatusCode).ShouldBe(200);
        }

        var idle = relay.Memory().Current;
        // Half tell the truth in their gzip trailer (refused before inflating), half lie (inflated up to the limit).
        var honest = Bomb(512L << 20, lie: false);
        var lying = Bomb(512L << 20, lie: true);
        output.WriteLine($"bomb: {honest.Length / 1024} KiB inflating to 512 MiB; relay idle at {idle >> 20} MiB");

        var statuses = await Task.WhenAll(Enumerable.Range(0, 64).Select(async i =>
        {
            var path = i % 4 < 2 ? FakeLangfuseServer.IngestionPath : FakeLangfuseServer.OtlpPath;
            var content = new ByteArrayContent(i % 2 == 0 ? honest : lying);
            content.Headers.ContentType = new MediaTypeHeaderValue(path == FakeLangfuseServer.OtlpPath ? "application/x-protobuf" : "application/json");
            content.Headers.ContentEncoding.Add("gzip");
            using var response = await client.PostAsync(path.TrimStart('/'), content);
            return (int)response.StatusCode;
        }));

        var peak = relay.Memory().Peak;
        statuses.ShouldAllBe(s => s == 413, string.Join(",", statuses));

        // Memory the relay gives back on its own: nothing is asked of it but time for its idle trim.
        var settled = long.MaxValue;
        for (var attempt = 0; attempt < 60 && settled - idle > SettledBound; attempt++)
        {
            await Task.Delay(500); // polling the operating system's figure; the relay has no signal to wait on
            settled = relay.Memory().Current;
        }

        output.WriteLine($"peak {peak >> 20} MiB, settled {settled >> 20} MiB (idle {idle >> 20} MiB)");
        peak.ShouldBeLessThan(PeakBound, $"peak RSS {peak >> 20} MiB");
        (settled - idle).ShouldBeLessThan(SettledBound, $"settled at {settled >> 20} MiB after idling at {idle >> 20} MiB");

        using (var request = Payload.OtlpProtobuf(3).ToRequest())
        using (var response = await client.SendAsync(request))
        {
            ((int)response.StatusCode).ShouldBe(200, "the relay still takes requests");
        }
    }

    /// <summary>A gzip member of <paramref name="size"/> zero bytes; a lying one claims 100 bytes in its trailer.</summary>
    private static byte[] Bomb(long size, bool lie)
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

        var bytes = output.ToArray();
        if (lie)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), 100);
        }

        return bytes;
    }
}
