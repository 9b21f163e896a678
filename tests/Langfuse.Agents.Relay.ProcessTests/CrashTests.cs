using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>The relay killed with SIGKILL under load and restarted on the same buffer directory.</summary>
public sealed class CrashTests
{
    /// <summary>
    /// Four clients send continuously (OTLP protobuf, protobuf+gzip, OTLP JSON, batch; 5 items a request) and keep what
    /// was acknowledged; the relay is SIGKILLed mid-load, restarted on the same port and buffer directory, the clients
    /// carry on against it, and once the upstream is healthy every acknowledged span and event reaches it.
    /// With the upstream up during the load, the kill also lands in the middle of forwarding.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Sigkill_DuringLoad_RestartedOnSameBuffer_EveryAcknowledgedItemReachesUpstream(bool upstreamUpDuringLoad)
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        if (!upstreamUpDuringLoad)
        {
            upstream.FailAll(503);
        }

        using var buffer = new TempDirectory();
        var config = new RelayConfig(upstream, buffer.Path);
        var first = await RelayProcess.StartAsync(config);
        var port = first.Port;
        RelayProcess? second = null;
        await using var load = new LoadClient(first.BaseUrl, workers: 4, itemsPerRequest: 5);
        try
        {
            await load.WaitForAcknowledgedAsync(600, TimeSpan.FromSeconds(30));
            await first.KillAndWaitAsync();
            var acknowledgedByFirst = load.Acknowledged;

            second = await RelayProcess.StartAsync(config with { Urls = $"http://127.0.0.1:{port}" });
            await load.WaitForAcknowledgedAsync(acknowledgedByFirst + 300, TimeSpan.FromSeconds(30));
            await load.StopAsync();

            upstream.Heal();
            await Delivery.WaitForAllAsync(
                upstream, load.AckedSpans, load.AckedEvents, TimeSpan.FromSeconds(40),
                () => $"{load}\nfirst relay:\n{first.Output}\nsecond relay:\n{second.Output}");
            load.AckedSpans.Count.ShouldBeGreaterThan(0);
            load.AckedEvents.Count.ShouldBeGreaterThan(0);
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The relay SIGKILLed at random moments under steady load, restarted each time (a few iterations here; hundreds
    /// with bench/Langfuse.Agents.CrashLoop): nothing acknowledged is lost, duplicates are at most the items of the
    /// upstream request in flight at each kill (summed over the kills), and every restart comes up (no crash loop).
    /// </summary>
    [Fact]
    public async Task SigkillAtRandomMoments_Repeatedly_LosesNothingAcknowledged_DuplicatesBoundedByInFlight_RestartsEveryTime()
    {
        using var buffer = new TempDirectory();

        var result = await RelayCrashLoop.RunAsync(iterations: 4, seed: Environment.TickCount, buffer.Path);

        result.Lost.ShouldBe(0, result.ToString());
        result.RestartFailures.ShouldBe(0, result.ToString());
        result.Acknowledged.ShouldBeGreaterThan(0, result.ToString());
        // A kill may re-send only the upstream request in flight: the forwarder records on disk what each request
        // delivered before it sends the next one.
        result.Duplicates.ShouldBeLessThanOrEqualTo(result.InFlightAtKills, result.ToString());
    }
}
