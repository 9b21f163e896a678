using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// Taking the next segment must not cost more as the backlog grows: the queue keeps an index of its segments and
/// lists the directory only when another process changed it. (The cost itself is measured by
/// bench/Langfuse.Agents.Benchmarks DurableQueueBenchmarks.TakeAndRelease, at 100 and 10,000 segments.)
/// </summary>
public sealed class DurableQueueIndexTests : IDisposable
{
    private readonly DurableTestDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DurableTestRecords.Now);
    private readonly CountingFileSystem _files = new();
    private readonly DropCounter _drops = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Takes_DoNotListTheDirectory_WhenOnlyThisQueueChangedIt()
    {
        using var queue = Open();
        for (var i = 0; i < 40; i++)
        {
            queue.Append(DurableTestRecords.Records(i, 1, payloadBytes: 20)).ShouldBe(AppendOutcome.Stored);
        }

        var listingsAfterAppends = _files.Listings;
        var held = new List<DurableSegment>();
        while (queue.TryTakeOldest(out var segment))
        {
            held.Add(segment!);
        }

        held.Select(s => DurableTestRecords.IndexOf(s.Records[0])).ShouldBe(Enumerable.Range(0, 40));
        for (var i = 0; i < held.Count; i++)
        {
            if (i % 2 == 0)
            {
                queue.Complete(held[i]);
            }
            else if (i % 4 == 1)
            {
                queue.Release(held[i]);
            }
            else
            {
                queue.Replace(held[i], held[i].Records); // rewritten under the same name: still this queue's own change
            }
        }

        var again = new List<int>();
        while (queue.TryTakeOldest(out var segment))
        {
            again.Add(DurableTestRecords.IndexOf(segment!.Records[0]));
        }

        again.ShouldBe(Enumerable.Range(0, 40).Where(i => i % 2 == 1));
        (_files.Listings - listingsAfterAppends).ShouldBe(0, "no listing per take: the index knows what this queue wrote and deleted");
        queue.Stats.Segments.ShouldBe(20);
    }

    [Fact]
    public void SegmentsAnotherQueueAppendsOrCompletes_AreSeenAtTheNextTake()
    {
        using var replayer = Open();
        replayer.Append(DurableTestRecords.Records(1, 1, payloadBytes: 20)).ShouldBe(AppendOutcome.Stored);
        using (var other = new DurableQueue(new DurableQueueOptions { Directory = _dir.Path }, timeProvider: _clock))
        {
            other.Append(DurableTestRecords.Records(2, 1, payloadBytes: 20)).ShouldBe(AppendOutcome.Stored);
        }

        replayer.Stats.Segments.ShouldBe(1, "not seen before the next take");
        replayer.TryTakeOldest(out var first).ShouldBeTrue();
        replayer.Stats.Segments.ShouldBe(2);
        replayer.Complete(first!);
        replayer.TryTakeOldest(out var second).ShouldBeTrue();
        DurableTestRecords.IndexOf(second!.Records[0]).ShouldBe(2);
        replayer.Complete(second);

        // A non-replaying queue's stats follow the replayer's deletions at its next (refused) take.
        using var watcher = Open();
        replayer.Append(DurableTestRecords.Records(3, 1, payloadBytes: 20)).ShouldBe(AppendOutcome.Stored);
        watcher.TryTakeOldest(out _).ShouldBeFalse("the replayer holds replay.lock");
        watcher.Stats.Segments.ShouldBe(1);
        replayer.TryTakeOldest(out var third).ShouldBeTrue();
        replayer.Complete(third!);
        watcher.TryTakeOldest(out _).ShouldBeFalse();
        watcher.Stats.Segments.ShouldBe(0);
    }

    [Fact]
    public void AChangeWithinOneDirectoryStamp_IsSeenAfterTheRescanInterval()
    {
        using var replayer = Open();
        replayer.TryTakeOldest(out _).ShouldBeFalse();
        var listings = _files.Listings;

        replayer.TryTakeOldest(out _).ShouldBeFalse();
        _files.Listings.ShouldBe(listings, "nothing changed: no listing");

        _clock.Advance(DurableQueue.RescanInterval);
        replayer.TryTakeOldest(out _).ShouldBeFalse();
        _files.Listings.ShouldBe(listings + 1, "the periodic check lists once");
    }

    [Fact]
    public void Expiry_VisitsTheIndex_AndStatsStayExactAcrossAppendsTakesAndExpiry()
    {
        using var queue = Open();
        queue.Append([DurableTestRecords.Record(0, _clock.GetUtcNow(), items: 3, payloadBytes: 20)]);
        _clock.Advance(TimeSpan.FromHours(30));
        queue.Append([DurableTestRecords.Record(1, _clock.GetUtcNow(), items: 4, payloadBytes: 20)]);
        queue.Stats.OldestCreatedAt.ShouldBe(DurableTestRecords.Now);

        _clock.Advance(TimeSpan.FromHours(20)); // the first is 50 h old
        queue.TryTakeOldest(out var segment).ShouldBeTrue();

        DurableTestRecords.IndexOf(segment!.Records[0]).ShouldBe(1);
        _drops.Items(DropReason.Expired).ShouldBe(3);
        queue.Stats.Items.ShouldBe(4);
        queue.BufferedItems.ShouldBe(4);
        queue.Stats.OldestCreatedAt.ShouldBe(DurableTestRecords.Now.AddHours(30));
    }

    private DurableQueue Open() =>
        new(new DurableQueueOptions { Directory = _dir.Path }, _drops.Callback, timeProvider: _clock, fileSystem: _files, logger: null as ILogger);
}
