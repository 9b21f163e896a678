using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

public sealed class DurableQueueTests : IDisposable
{
    private readonly DurableTestDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DurableTestRecords.Now);
    private readonly DropCounter _drops = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Append_ThenTake_RoundTripsBothKindsWithContentTypeAndEncoding()
    {
        using var queue = Open();
        DurableRecord[] records =
        [
            new(PayloadKind.OtlpTraces, 3, _clock.GetUtcNow(), new byte[] { 1, 2, 3 }, "application/x-protobuf", "gzip"),
            new(PayloadKind.IngestionBatch, 7, _clock.GetUtcNow().AddSeconds(-5), "{\"batch\":[]}"u8.ToArray(), "application/json; charset=utf-8"),
            new(PayloadKind.OtlpTraces, 0, _clock.GetUtcNow(), Array.Empty<byte>()),
            DurableTestRecords.Record(42),
        ];

        queue.Append(records).ShouldBe(AppendOutcome.Stored);

        queue.TryTakeOldest(out var segment).ShouldBeTrue();
        segment!.Records.ShouldMatch(records);
        segment.Records[2].ContentType.ShouldBeNull();
        segment.Records[2].ContentEncoding.ShouldBeNull();
        _drops.Total.ShouldBe(0);
    }

    [Fact]
    public void TryTakeOldest_ReturnsSegmentsInAppendOrder()
    {
        using var queue = Open();
        for (var i = 0; i < 5; i++)
        {
            queue.Append(DurableTestRecords.Records(i * 10, 2, payloadBytes: 100)).ShouldBe(AppendOutcome.Stored);
        }

        var taken = new List<int>();
        while (queue.TryTakeOldest(out var segment))
        {
            taken.AddRange(segment!.Records.Select(DurableTestRecords.IndexOf));
        }

        taken.ShouldBe([0, 1, 10, 11, 20, 21, 30, 31, 40, 41]);
    }

    [Fact]
    public void Segments_AppendedByAnotherQueue_AreReplayedInNameOrder()
    {
        using var replayer = Open();
        using (var other = Open())
        {
            other.Append(DurableTestRecords.Records(1, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Stored);
        }

        replayer.Append(DurableTestRecords.Records(2, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Stored);

        replayer.TryTakeOldest(out var first).ShouldBeTrue();
        replayer.TryTakeOldest(out var second).ShouldBeTrue();
        DurableTestRecords.IndexOf(first!.Records[0]).ShouldBe(1);
        DurableTestRecords.IndexOf(second!.Records[0]).ShouldBe(2);
    }

    [Fact]
    public void Complete_DeletesTheSegment()
    {
        using var queue = Open();
        queue.Append(DurableTestRecords.Records(0, 3, payloadBytes: 10));
        queue.TryTakeOldest(out var segment).ShouldBeTrue();

        queue.Complete(segment!);

        _dir.Segments().ShouldBeEmpty();
        queue.Stats.ShouldBe(new DurableQueueStats(0, 0, 0, 0, null));
        queue.TryTakeOldest(out _).ShouldBeFalse();
    }

    [Fact]
    public void Release_KeepsTheSegmentOldest()
    {
        using var queue = Open();
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10));
        queue.Append(DurableTestRecords.Records(1, 1, payloadBytes: 10));
        queue.TryTakeOldest(out var first).ShouldBeTrue();

        queue.Release(first!);

        queue.TryTakeOldest(out var again).ShouldBeTrue();
        again!.Path.ShouldBe(first!.Path);
        DurableTestRecords.IndexOf(again.Records[0]).ShouldBe(0);
    }

    [Fact]
    public void Replace_RewritesTheSegmentUnderItsNameWithTheRemainingRecords()
    {
        using var queue = Open();
        var records = DurableTestRecords.Records(0, 4, payloadBytes: 50);
        queue.Append(records);
        queue.Append(DurableTestRecords.Records(10, 1, payloadBytes: 50));
        var before = _dir.Segments();
        queue.TryTakeOldest(out var segment).ShouldBeTrue();

        queue.Replace(segment!, segment!.Records.Skip(2).ToList());

        _dir.Segments().ShouldBe(before);
        _dir.Files("*.tmp").ShouldBeEmpty();
        queue.Stats.Records.ShouldBe(3);
        queue.Stats.Items.ShouldBe(records[2].ItemCount + records[3].ItemCount + DurableTestRecords.Record(10).ItemCount);
        queue.TryTakeOldest(out var replaced).ShouldBeTrue();
        replaced!.Path.ShouldBe(segment.Path);
        replaced.Records.ShouldMatch(records[2..]);
    }

    [Fact]
    public void Replace_WithNothingRemaining_Completes()
    {
        using var queue = Open();
        queue.Append(DurableTestRecords.Records(0, 2, payloadBytes: 10));
        queue.TryTakeOldest(out var segment).ShouldBeTrue();

        queue.Replace(segment!, []);

        _dir.Segments().ShouldBeEmpty();
    }

    [Fact]
    public void Stats_FollowAppendsAndTakes_AndAreRebuiltFromHeadersOnReopen()
    {
        var early = _clock.GetUtcNow().AddMinutes(-3);
        DurableQueueStats stats;
        using (var queue = Open())
        {
            queue.Append([DurableTestRecords.Record(0, early, items: 4, payloadBytes: 100), DurableTestRecords.Record(1, items: 2, payloadBytes: 100)]);
            queue.Append([DurableTestRecords.Record(2, items: 1, payloadBytes: 100)]);
            stats = queue.Stats;
            stats.Segments.ShouldBe(2);
            stats.Records.ShouldBe(3);
            stats.Items.ShouldBe(7);
            stats.Bytes.ShouldBe(_dir.Segments().Sum(name => new FileInfo(_dir.File(name)).Length));
            stats.OldestCreatedAt.ShouldBe(early);
        }

        using var reopened = Open();
        reopened.Stats.ShouldBe(stats);
    }

    [Fact]
    public void SegmentNames_SortByAppendOrder_EvenWhenTheClockStandsStill()
    {
        using var queue = Open();
        for (var i = 0; i < 12; i++)
        {
            queue.Append(DurableTestRecords.Records(i, 1, payloadBytes: 10));
        }

        var names = _dir.Segments();
        names.ShouldAllBe(n => DurableQueue.IsSegmentName(n));
        var replayed = new List<int>();
        while (queue.TryTakeOldest(out var segment))
        {
            replayed.Add(DurableTestRecords.IndexOf(segment!.Records[0]));
        }

        replayed.ShouldBe(Enumerable.Range(0, 12));
    }

    [Fact]
    public void TwoQueuesInOneProcess_OnlyOneReplays()
    {
        using var first = Open();
        using var second = Open();
        first.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10));
        second.Append(DurableTestRecords.Records(1, 1, payloadBytes: 10));

        first.TryTakeOldest(out _).ShouldBeTrue();
        second.TryTakeOldest(out _).ShouldBeFalse();
        second.HoldsReplayLock.ShouldBeFalse();

        first.Dispose();
        second.TryTakeOldest(out var segment).ShouldBeTrue("the lock is taken over once its holder is gone");
        DurableTestRecords.IndexOf(segment!.Records[0]).ShouldBe(0);
    }

    [Fact]
    public void Disposed_RefusesAppendsAndTakes()
    {
        var queue = Open();
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10));
        queue.Dispose();

        queue.IsAvailable.ShouldBeFalse();
        queue.Append(DurableTestRecords.Records(1, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Unavailable);
        queue.TryTakeOldest(out _).ShouldBeFalse();
    }

    [Fact]
    public void ThrowingDropCallback_DoesNotBreakTheQueue()
    {
        using var queue = new DurableQueue(
            new DurableQueueOptions { Directory = _dir.Path, MaxBytes = 1000 },
            onDrop: (_, _) => throw new InvalidOperationException("counter broke"),
            timeProvider: _clock);
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 600)).ShouldBe(AppendOutcome.Stored);

        queue.Append(DurableTestRecords.Records(1, 1, payloadBytes: 600)).ShouldBe(AppendOutcome.Stored);

        queue.Stats.Segments.ShouldBe(1);
    }

    private DurableQueue Open() =>
        new(new DurableQueueOptions { Directory = _dir.Path }, _drops.Callback, timeProvider: _clock);
}
