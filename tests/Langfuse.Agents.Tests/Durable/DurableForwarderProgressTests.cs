using Langfuse.Agents.Internal.Durable;
using Shouldly;
using Xunit;
using static Langfuse.Agents.Tests.Durable.ForwarderPayloads;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// Issue 9, must-hold 2 (duplicates after SIGKILL no more than the requests in flight): the forwarder writes its
/// progress to disk after every upstream request, so a process that opens the buffer after a kill finds only what
/// was not yet answered. Before this, a round settled all its segments at its end, so a kill during its third request
/// re-sent the first two.
/// </summary>
public sealed class DurableForwarderProgressTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Forward_AfterEachUpstreamRequest_TheDiskHoldsOnlyWhatIsNotYetDelivered()
    {
        GatedApi? gated = null;
        await using var harness = await ForwarderHarness.StartAsync(
            limits: new ForwarderLimits { MaxRecordsPerRequest = 2 },
            wrapApi: api => gated = new GatedApi(api, 2, 3));
        // Segment A fits the first request; segment B is split across the second and third.
        harness.AppendSegment(OtlpRecord(0, 1), OtlpRecord(10, 1));
        harness.AppendSegment(OtlpRecord(20, 1), OtlpRecord(30, 1), OtlpRecord(40, 1));
        harness.Start();

        await gated!.Arrived(2).WaitAsync(Wait);
        var duringSecond = harness.StatsOnDisk();
        duringSecond.Records.ShouldBe(3, "segment A was delivered by the first request: a restart must not send it again");
        duringSecond.Segments.ShouldBe(1);

        gated.Release(2);
        await gated.Arrived(3).WaitAsync(Wait);
        var duringThird = harness.StatsOnDisk();
        duringThird.Records.ShouldBe(1, "two of segment B's records were delivered by the second request");
        duringThird.Segments.ShouldBe(1);

        gated.Release(3);
        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());
        harness.Server.Spans.Select(s => s.Name).ShouldBe(["span-0", "span-10", "span-20", "span-30", "span-40"], "each once, in order");
        harness.StatsOnDisk().Records.ShouldBe(0);
    }
}
