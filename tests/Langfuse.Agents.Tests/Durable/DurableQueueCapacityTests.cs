using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

public sealed class DurableQueueCapacityTests : IDisposable
{
    private const int PayloadBytes = 1000;

    private readonly DurableTestDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DurableTestRecords.Now);
    private readonly DropCounter _drops = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void DropOldest_DeletesTheOldestSegments_AndCountsTheirItemsAsBufferFull()
    {
        var segmentBytes = DurableFormat.EncodeSegment(DurableTestRecords.Records(0, 1, payloadBytes: PayloadBytes)).Length;
        using var queue = Open(DurableFullPolicy.DropOldest, maxBytes: (3 * segmentBytes) + 10);
        for (var i = 0; i < 5; i++)
        {
            queue.Append([DurableTestRecords.Record(i, items: 10 + i, payloadBytes: PayloadBytes)]).ShouldBe(AppendOutcome.Stored);
        }

        _drops.Items(DropReason.BufferFull).ShouldBe(10 + 11);
        queue.Stats.Segments.ShouldBe(3);
        queue.Stats.Bytes.ShouldBeLessThanOrEqualTo((3 * segmentBytes) + 10);
        Replayed(queue).ShouldBe([2, 3, 4]);
    }

    [Fact]
    public void DropOldest_NeverDeletesASegmentBeingReplayed()
    {
        var segmentBytes = DurableFormat.EncodeSegment(DurableTestRecords.Records(0, 1, payloadBytes: PayloadBytes)).Length;
        using var queue = Open(DurableFullPolicy.DropOldest, maxBytes: 2 * segmentBytes);
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: PayloadBytes));
        queue.Append(DurableTestRecords.Records(1, 1, payloadBytes: PayloadBytes));
        queue.TryTakeOldest(out var taken).ShouldBeTrue();

        queue.Append(DurableTestRecords.Records(2, 1, payloadBytes: PayloadBytes)).ShouldBe(AppendOutcome.Stored);

        File.Exists(taken!.Path).ShouldBeTrue();
        queue.Complete(taken);
        Replayed(queue).ShouldBe([2]);
    }

    [Fact]
    public void RejectNewest_ReturnsFull_AndKeepsWhatIsOnDisk()
    {
        var segmentBytes = DurableFormat.EncodeSegment(DurableTestRecords.Records(0, 1, payloadBytes: PayloadBytes)).Length;
        using var queue = Open(DurableFullPolicy.RejectNewest, maxBytes: (2 * segmentBytes) + 10);
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: PayloadBytes)).ShouldBe(AppendOutcome.Stored);
        queue.Append(DurableTestRecords.Records(1, 1, payloadBytes: PayloadBytes)).ShouldBe(AppendOutcome.Stored);

        queue.Append(DurableTestRecords.Records(2, 1, payloadBytes: PayloadBytes)).ShouldBe(AppendOutcome.Full);

        _drops.Total.ShouldBe(0, "refused items are the caller's to count");
        Replayed(queue).ShouldBe([0, 1]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnAppendLargerThanTheCap_IsRefusedWithoutDroppingAnything(bool rejectNewest)
    {
        using var queue = Open(rejectNewest ? DurableFullPolicy.RejectNewest : DurableFullPolicy.DropOldest, maxBytes: 2 * PayloadBytes);
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Stored);

        queue.Append(DurableTestRecords.Records(1, 1, payloadBytes: 3 * PayloadBytes)).ShouldBe(AppendOutcome.Full);

        _drops.Total.ShouldBe(0);
        queue.Stats.Segments.ShouldBe(1);
    }

    [Fact]
    public void Retention_DeletesSegmentsWhoseRecordsAreAllOlder_OnAppend_AndCountsThemExpired()
    {
        using var queue = Open(DurableFullPolicy.DropOldest);
        queue.Append([DurableTestRecords.Record(0, items: 5, payloadBytes: 10)]);
        _clock.Advance(TimeSpan.FromHours(47));
        queue.Append([DurableTestRecords.Record(1, _clock.GetUtcNow(), items: 6, payloadBytes: 10)]);

        _clock.Advance(TimeSpan.FromHours(2)); // the first is 49 h old, the second 2 h
        queue.Append([DurableTestRecords.Record(2, _clock.GetUtcNow(), items: 7, payloadBytes: 10)]);

        _drops.Items(DropReason.Expired).ShouldBe(5);
        Replayed(queue).ShouldBe([1, 2]);
    }

    [Fact]
    public void Retention_IsCheckedOnTake_AndOnOpen()
    {
        using (var queue = Open(DurableFullPolicy.DropOldest))
        {
            queue.Append([DurableTestRecords.Record(0, items: 5, payloadBytes: 10)]);
            queue.Append([DurableTestRecords.Record(1, items: 3, payloadBytes: 10)]);
            _clock.Advance(TimeSpan.FromHours(49));

            queue.TryTakeOldest(out _).ShouldBeFalse();
            _drops.Items(DropReason.Expired).ShouldBe(8);
            _dir.Segments().ShouldBeEmpty();
        }

        using (var queue = Open(DurableFullPolicy.DropOldest))
        {
            queue.Append([DurableTestRecords.Record(2, _clock.GetUtcNow(), items: 4, payloadBytes: 10)]);
        }

        _clock.Advance(TimeSpan.FromHours(49));
        using var reopened = Open(DurableFullPolicy.DropOldest);
        _drops.Items(DropReason.Expired).ShouldBe(12);
        reopened.Stats.Segments.ShouldBe(0);
    }

    [Fact]
    public void Retention_KeepsASegmentWithOneRecentRecord()
    {
        using var queue = Open(DurableFullPolicy.DropOldest);
        queue.Append([DurableTestRecords.Record(0, _clock.GetUtcNow().AddHours(-60), payloadBytes: 10), DurableTestRecords.Record(1, _clock.GetUtcNow(), payloadBytes: 10)]);

        _clock.Advance(TimeSpan.FromHours(1));

        Replayed(queue).ShouldBe([0, 1]);
        _drops.Total.ShouldBe(0);
    }

    [Fact]
    public void Retention_LongerThanTheCalendar_KeepsEverything_AndTakesStillWork()
    {
        // Found by DurableFormatFuzzTests: now - retention used to throw, so every take failed.
        using var queue = new DurableQueue(
            new DurableQueueOptions { Directory = _dir.Path, Retention = TimeSpan.MaxValue / 2 }, _drops.Callback, timeProvider: _clock);
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Stored);

        Replayed(queue).ShouldBe([0]);
        _drops.Total.ShouldBe(0);
    }

    private static List<int> Replayed(DurableQueue queue)
    {
        var indices = new List<int>();
        while (queue.TryTakeOldest(out var segment))
        {
            indices.AddRange(segment!.Records.Select(DurableTestRecords.IndexOf));
            queue.Complete(segment);
        }

        return indices;
    }

    private DurableQueue Open(DurableFullPolicy policy, long maxBytes = DurableQueueOptions.DefaultMaxBytes) =>
        new(new DurableQueueOptions { Directory = _dir.Path, MaxBytes = maxBytes, FullPolicy = policy }, _drops.Callback, timeProvider: _clock);
}
