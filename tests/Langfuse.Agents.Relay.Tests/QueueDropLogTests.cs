using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Relay.Internal;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>Finding 6: every drop the queue reports is counted and logged, without flooding the log.</summary>
public sealed class QueueDropLogTests
{
    [Fact]
    public void Drops_AreCountedAtOnce_AndLoggedFirstThenAtMostOnceAMinutePerReason()
    {
        using var metrics = new LangfuseMetrics();
        var logger = new ListLogger();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var drops = new QueueDropLog(metrics, logger, clock);

        drops.Report(DropReason.Corrupt, 3);
        drops.Report(DropReason.Corrupt, 4);
        drops.Report(DropReason.Expired, 10);

        metrics.DroppedCount(DropReason.Corrupt).ShouldBe(7);
        metrics.DroppedCount(DropReason.Expired).ShouldBe(10);
        logger.Lines.Count.ShouldBe(2);
        logger.Lines[0].ShouldBe("Warning: The buffer gave up 3 acknowledged items (corrupt); 3 so far for this reason (see dropped in /relay/status).");
        logger.Lines[1].ShouldContain("10 acknowledged items (expired)");

        clock.Advance(TimeSpan.FromMinutes(1));
        drops.Report(DropReason.Corrupt, 1);

        logger.Lines.Count.ShouldBe(3);
        logger.Lines[2].ShouldContain("gave up 5 acknowledged items (corrupt); 8 so far");
    }
}
