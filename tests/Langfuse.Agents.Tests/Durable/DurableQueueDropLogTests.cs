using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>Every drop the queue makes (expired, evicted at the cap, corrupt) is counted through its callback and logged, aggregated.</summary>
public sealed class DurableQueueDropLogTests : IDisposable
{
    private const int PayloadBytes = 1000;

    private readonly DurableTestDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DurableTestRecords.Now);
    private readonly DropCounter _drops = new();
    private readonly CapturingLoggerFactory _logs = new();

    public void Dispose()
    {
        _dir.Dispose();
        _logs.Dispose();
    }

    [Fact]
    public void ASegmentPastTheRetention_IsCountedAndLogged()
    {
        using (var queue = Open())
        {
            queue.Append([DurableTestRecords.Record(0, items: 5, payloadBytes: 10)]).ShouldBe(AppendOutcome.Stored);
        }

        _clock.Advance(TimeSpan.FromHours(49));
        using var reopened = Open();

        _drops.Items(DropReason.Expired).ShouldBe(5);
        var line = DropLines().ShouldHaveSingleItem();
        line.Level.ShouldBe(LogLevel.Warning);
        line.Message.ShouldContain("5 items");
        line.Message.ShouldContain("LANGFUSE_BUFFER_RETENTION");
        line.Message.ShouldContain(_dir.Path);
    }

    [Fact]
    public void EvictionsAtTheCap_AreLoggedAggregated_NotPerSegment()
    {
        var segmentBytes = DurableFormat.EncodeSegment(DurableTestRecords.Records(0, 1, payloadBytes: PayloadBytes)).Length;
        using var queue = Open(maxBytes: 2 * segmentBytes);
        for (var i = 0; i < 12; i++)
        {
            queue.Append([DurableTestRecords.Record(i, items: 2, payloadBytes: PayloadBytes)]).ShouldBe(AppendOutcome.Stored);
        }

        _drops.Items(DropReason.BufferFull).ShouldBe(20);
        DropLines().Count.ShouldBe(1, "the first eviction is logged at once, the next ones wait for the next line");
        DropLines()[0].Message.ShouldContain("2 items (1 segment files)");

        _clock.Advance(TimeSpan.FromMinutes(1));
        queue.Append([DurableTestRecords.Record(12, items: 2, payloadBytes: PayloadBytes)]).ShouldBe(AppendOutcome.Stored);

        DropLines().Count.ShouldBe(2);
        DropLines()[1].Message.ShouldContain("20 items (10 segment files)", customMessage: "the nine waiting and this one");
        DropLines()[1].Message.ShouldContain("LANGFUSE_BUFFER_MAX_BYTES");
        queue.Drops.BufferFull.ShouldBe(22);

        _clock.Advance(TimeSpan.FromSeconds(1));
        queue.Append([DurableTestRecords.Record(13, items: 2, payloadBytes: PayloadBytes)]).ShouldBe(AppendOutcome.Stored);
        queue.Dispose();
        DropLines().Count.ShouldBe(3, "what waits is logged when the queue is disposed");
        DropLines()[2].Message.ShouldContain("2 items");
    }

    [Fact]
    public void ManyCorruptSegments_AreOneLine()
    {
        using (var writer = Open())
        {
            for (var i = 0; i < 5; i++)
            {
                writer.Append(DurableTestRecords.Records(i * 10, 2, payloadBytes: 50)).ShouldBe(AppendOutcome.Stored);
            }
        }

        foreach (var name in _dir.Segments())
        {
            var bytes = File.ReadAllBytes(_dir.File(name));
            bytes[^10] ^= 0xFF; // the last record's body
            File.WriteAllBytes(_dir.File(name), bytes);
        }

        using var queue = Open();
        var taken = 0;
        while (queue.TryTakeOldest(out var segment))
        {
            taken += segment!.Records.Count;
            queue.Complete(segment);
        }

        taken.ShouldBe(5);
        _drops.Items(DropReason.Corrupt).ShouldBeGreaterThan(0);
        queue.Drops.Corrupt.ShouldBe(_drops.Items(DropReason.Corrupt));
        DropLines().Count.ShouldBe(1);
        queue.Dispose();
        DropLines().Count.ShouldBe(2);
        DropLines().Sum(l => (long)l.Value("Items")!).ShouldBe(_drops.Items(DropReason.Corrupt));
    }

    private List<CapturedLogEntry> DropLines() => [.. _logs.Entries.Where(e => e.EventId.Id == 64)];

    private DurableQueue Open(long maxBytes = DurableQueueOptions.DefaultMaxBytes) =>
        new(new DurableQueueOptions { Directory = _dir.Path, MaxBytes = maxBytes }, _drops.Callback, _logs.CreateLogger(DurableLog.CategoryName), _clock);
}
