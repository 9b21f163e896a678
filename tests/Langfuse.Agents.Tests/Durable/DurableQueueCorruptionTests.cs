using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

public sealed class DurableQueueCorruptionTests : IDisposable
{
    private readonly DurableTestDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DurableTestRecords.Now);
    private readonly DropCounter _drops = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void SegmentTruncatedMidRecord_KeepsTheRecordsBefore_AndCountsTheCutOneCorrupt()
    {
        var records = Records(0, 3);
        var path = WriteSegment(records);
        WriteSegment(Records(10, 1)); // a later segment
        using (var file = File.OpenWrite(path))
        {
            file.SetLength(file.Length - 30);
        }

        var replayed = ReplayAll();

        replayed.Select(DurableTestRecords.IndexOf).ShouldBe([0, 1, 10]);
        _drops.Items(DropReason.Corrupt).ShouldBe(records[2].ItemCount);
    }

    [Fact]
    public void BitFlippedPayload_SkipsThatRecord_AndStillReadsTheRecordsAfterIt()
    {
        var records = Records(0, 3);
        var path = WriteSegment(records);
        var bytes = File.ReadAllBytes(path);
        bytes[RecordOffset(records, 1) + DurableFormat.RecordHeaderSize + 40] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        var replayed = ReplayAll();

        replayed.Select(DurableTestRecords.IndexOf).ShouldBe([0, 2]);
        replayed.ShouldMatch([records[0], records[2]]);
        _drops.Items(DropReason.Corrupt).ShouldBe(records[1].ItemCount);
    }

    [Fact]
    public void DamagedRecordHeader_ResynchronisesOnTheNextRecordMagic()
    {
        var records = Records(0, 3);
        var path = WriteSegment(records);
        var bytes = File.ReadAllBytes(path);
        bytes[RecordOffset(records, 1) + 5] ^= 0xFF; // the length: its header checksum no longer matches
        File.WriteAllBytes(path, bytes);

        var replayed = ReplayAll();

        replayed.ShouldMatch([records[0], records[2]]);
        _drops.Items(DropReason.Corrupt).ShouldBe(records[1].ItemCount);
    }

    [Fact]
    public void DamagedSegmentHeader_StillReadsEveryIntactRecord_AndCountsUnreadableBytesAsOneItem()
    {
        var records = Records(0, 3);
        var path = WriteSegment(records);
        var bytes = File.ReadAllBytes(path);
        bytes[10] ^= 0xFF; // segment header
        bytes[RecordOffset(records, 1) + 2] ^= 0xFF; // record 1's magic: nothing of it is readable
        File.WriteAllBytes(path, bytes);

        using (var queue = Open())
        {
            queue.Stats.Records.ShouldBe(2, "indexed from the readable records when the header is damaged");
        }

        var replayed = ReplayAll();

        replayed.ShouldMatch([records[0], records[2]]);
        _drops.Items(DropReason.Corrupt).ShouldBe(1);
    }

    [Fact]
    public void ZeroLengthSegment_IsSkipped_AndCountedAsOneCorruptItem()
    {
        WriteSegment(Records(0, 1));
        File.WriteAllBytes(_dir.File(Name(ticks: 1)), []);
        File.SetLastWriteTimeUtc(_dir.File(Name(ticks: 1)), _clock.GetUtcNow().UtcDateTime); // its only age
        WriteSegment(Records(10, 1));

        ReplayAll().Select(DurableTestRecords.IndexOf).ShouldBe([0, 10]);
        _drops.Items(DropReason.Corrupt).ShouldBe(1);
        _dir.Segments().ShouldBeEmpty();
    }

    [Fact]
    public void StrayFiles_GarbageNames_AndStaleTemporaries_NeverStopAnything()
    {
        Directory.CreateDirectory(_dir.Path);
        File.WriteAllBytes(_dir.File("junk.lfq"), [.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 31))]);
        File.WriteAllText(_dir.File("123-abc.lfq"), "unparseable name");
        File.WriteAllText(_dir.File("notes.txt"), "someone's notes");
        Directory.CreateDirectory(_dir.File("a-subdirectory.lfq"));
        var deadWriter = _dir.File(Name(ticks: 5) + ".2147483600.tmp"); // no such process
        File.WriteAllBytes(deadWriter, [1, 2, 3]);
        var oldTemp = _dir.File(Name(ticks: 6) + $".{Environment.ProcessId}.tmp");
        File.WriteAllBytes(oldTemp, [1, 2, 3]);
        File.SetLastWriteTimeUtc(oldTemp, _clock.GetUtcNow().UtcDateTime.AddHours(-2));
        var liveTemp = _dir.File(Name(ticks: 7) + $".{Environment.ProcessId}.tmp");
        File.WriteAllBytes(liveTemp, [1, 2, 3]);
        File.SetLastWriteTimeUtc(liveTemp, _clock.GetUtcNow().UtcDateTime);
        WriteSegment(Records(0, 2));

        using var queue = Open();

        queue.IsAvailable.ShouldBeTrue();
        File.Exists(deadWriter).ShouldBeFalse("its writer is gone");
        File.Exists(oldTemp).ShouldBeFalse("older than an hour");
        File.Exists(liveTemp).ShouldBeTrue("a writer in this process may still rename it");
        queue.Stats.Segments.ShouldBe(1);
        queue.Append(Records(5, 1)).ShouldBe(AppendOutcome.Stored);
        ReplayAll(queue).Select(DurableTestRecords.IndexOf).ShouldBe([0, 1, 5]);
        _drops.Total.ShouldBe(0);
        File.Exists(_dir.File("junk.lfq")).ShouldBeTrue("files that are not ours are left alone");
        File.Exists(_dir.File("notes.txt")).ShouldBeTrue();
    }

    [Fact]
    public void GarbageUnderASegmentName_IsSkippedAndCounted()
    {
        Directory.CreateDirectory(_dir.Path);
        File.WriteAllBytes(_dir.File(Name(ticks: 1)), [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 7))]);
        File.SetLastWriteTimeUtc(_dir.File(Name(ticks: 1)), _clock.GetUtcNow().UtcDateTime); // its only age
        WriteSegment(Records(3, 1));

        ReplayAll().Select(DurableTestRecords.IndexOf).ShouldBe([3]);
        _drops.Items(DropReason.Corrupt).ShouldBe(1);
    }

    [Fact]
    public void ACorruptSegment_IsCountedOnce_EvenWhenReleasedAndTakenAgain()
    {
        var records = Records(0, 3);
        var path = WriteSegment(records);
        var bytes = File.ReadAllBytes(path);
        bytes[RecordOffset(records, 2) + DurableFormat.RecordHeaderSize + 30] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        using (var queue = Open())
        {
            queue.TryTakeOldest(out var segment).ShouldBeTrue();
            queue.Release(segment!);
            queue.TryTakeOldest(out segment).ShouldBeTrue();
            segment!.Records.Count.ShouldBe(2);
            queue.Stats.Records.ShouldBe(2, "the segment was rewritten without the damaged record");
        }

        ReplayAll().ShouldMatch(records[..2]);
        _drops.Items(DropReason.Corrupt).ShouldBe(records[2].ItemCount);
    }

    private static DurableRecord[] Records(int first, int count) => DurableTestRecords.Records(first, count, DurableTestRecords.Now, payloadBytes: 200);

    private static int RecordOffset(DurableRecord[] records, int index) =>
        DurableFormat.SegmentHeaderSize + records.Take(index).Sum(r => DurableFormat.EncodeSegment([r]).Length - DurableFormat.SegmentHeaderSize);

    private static string Name(long ticks) => $"{ticks:D19}-0000000001-0000000001.lfq";

    /// <summary>Appends through a queue (so the file is exactly what the queue writes) and returns the new file's path.</summary>
    private string WriteSegment(DurableRecord[] records)
    {
        var before = _dir.Segments();
        using var queue = new DurableQueue(new DurableQueueOptions { Directory = _dir.Path }, timeProvider: _clock);
        queue.Append(records).ShouldBe(AppendOutcome.Stored);
        return _dir.File(_dir.Segments().Except(before).Single());
    }

    private List<DurableRecord> ReplayAll()
    {
        using var queue = Open();
        return ReplayAll(queue);
    }

    private static List<DurableRecord> ReplayAll(DurableQueue queue)
    {
        var records = new List<DurableRecord>();
        while (queue.TryTakeOldest(out var segment))
        {
            records.AddRange(segment!.Records);
            queue.Complete(segment);
        }

        return records;
    }

    private DurableQueue Open() => new(new DurableQueueOptions { Directory = _dir.Path }, _drops.Callback, timeProvider: _clock);
}
