using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

public sealed class DurableQueueFaultTests : IDisposable
{
    private readonly DurableTestDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DurableTestRecords.Now);
    private readonly CapturingLoggerFactory _logs = new();
    private readonly FaultyFileSystem _files = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void DiskFull_AppendFails_LeavesNothingPartial_AndWorksAgainWhenSpaceReturns()
    {
        using var queue = Open();
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 100)).ShouldBe(AppendOutcome.Stored);
        var stats = queue.Stats;
        _files.DiskFull = true;

        queue.Append(DurableTestRecords.Records(1, 3, payloadBytes: 5000)).ShouldBe(AppendOutcome.WriteFailed);
        queue.Append(DurableTestRecords.Records(4, 1, payloadBytes: 5000)).ShouldBe(AppendOutcome.WriteFailed);

        _files.FailedWrites.ShouldBe(2);
        _dir.Files("*.tmp").ShouldBeEmpty();
        _dir.Segments().Length.ShouldBe(1);
        queue.Stats.ShouldBe(stats);
        _logs.Entries.Count(e => e.Level == LogLevel.Warning).ShouldBe(1, "one warning per streak of failures");
        _logs.Entries.ShouldContain(e => e.Message.Contains("No space left on device", StringComparison.Ordinal));

        _files.DiskFull = false;
        queue.Append(DurableTestRecords.Records(5, 1, payloadBytes: 100)).ShouldBe(AppendOutcome.Stored);

        _logs.Entries.ShouldContain(e => e.Level == LogLevel.Information && e.Message.Contains("works again", StringComparison.Ordinal));
        Replayed(queue).ShouldBe([0, 5]);
    }

    [Fact]
    public void RenameFailure_AppendFails_AndLeavesNoTemporaryFile()
    {
        using var queue = Open();
        _files.FailRenames = true;

        queue.Append(DurableTestRecords.Records(0, 2, payloadBytes: 100)).ShouldBe(AppendOutcome.WriteFailed);

        _dir.Files().Where(f => f != DurableQueue.LockFileName).ShouldBeEmpty();
        _files.FailRenames = false;
        queue.Append(DurableTestRecords.Records(2, 1, payloadBytes: 100)).ShouldBe(AppendOutcome.Stored);
        Replayed(queue).ShouldBe([2]);
    }

    [Fact]
    public void FsyncFailure_AppendFails_AndLeavesNoTemporaryFile()
    {
        using var queue = Open();
        _files.FailFlushes = true;

        queue.Append(DurableTestRecords.Records(0, 2, payloadBytes: 100)).ShouldBe(AppendOutcome.WriteFailed);

        _dir.Files().ShouldBeEmpty();
        queue.Stats.Segments.ShouldBe(0);
    }

    [Fact]
    public void UnwritableDirectory_AppendFails_WithoutThrowing()
    {
        using var queue = Open();
        _files.FailCreates = true;

        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 100)).ShouldBe(AppendOutcome.WriteFailed);

        _logs.Entries.ShouldContain(e => e.Level == LogLevel.Warning && e.Message.Contains(_dir.Path, StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutFsync_NoFlushToDiskIsAttempted_AndAppendsStillWork()
    {
        using var queue = new DurableQueue(
            new DurableQueueOptions { Directory = _dir.Path, FsyncBeforeRename = false },
            logger: _logs.CreateLogger(DurableLog.CategoryName),
            timeProvider: _clock,
            fileSystem: _files);
        _files.FailFlushes = true;

        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 100)).ShouldBe(AppendOutcome.Stored);
    }

    [Fact]
    public void ReplaceOnAFullDisk_KeepsTheWholeSegment()
    {
        using var queue = Open();
        var records = DurableTestRecords.Records(0, 3, payloadBytes: 100);
        queue.Append(records);
        queue.TryTakeOldest(out var segment).ShouldBeTrue();
        _files.DiskFull = true;

        queue.Replace(segment!, segment!.Records.Skip(1).ToList());

        _dir.Files("*.tmp").ShouldBeEmpty();
        _files.DiskFull = false;
        queue.TryTakeOldest(out var again).ShouldBeTrue();
        again!.Records.ShouldMatch(records);
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

    private DurableQueue Open() =>
        new(new DurableQueueOptions { Directory = _dir.Path }, logger: _logs.CreateLogger(DurableLog.CategoryName), timeProvider: _clock, fileSystem: _files);
}
