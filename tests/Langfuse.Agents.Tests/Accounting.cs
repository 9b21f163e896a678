using Shouldly;

namespace Langfuse.Agents.Tests;

/// <summary>The accounting identity every fault scenario ends with: nothing accepted is unaccounted for.</summary>
internal static class Accounting
{
    /// <summary>
    /// At a quiet moment: enqueued + recovered = exported + dropped after enqueueing + buffered on disk, and nothing
    /// is left in the in-memory queue.
    /// </summary>
    public static void ShouldBeBalanced(this LangfuseStatistics stats)
    {
        (stats.Enqueued + stats.Recovered).ShouldBe(stats.Exported + stats.DroppedAfterEnqueue + stats.Buffered + stats.QueueDepth, stats.ToString());
        stats.QueueDepth.ShouldBe(0, stats.ToString());
    }
}
