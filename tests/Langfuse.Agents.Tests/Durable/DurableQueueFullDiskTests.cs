using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// A real full disk: a 256 KiB tmpfs mounted by the test (as root) and unmounted after. Appends fail cleanly (no
/// temporary file, no torn segment, nothing acknowledged lost) and succeed again, by themselves, once there is room.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DurableQueueFullDiskTests : IDisposable
{
    private readonly string _mount = Path.Combine(Path.GetTempPath(), "langfuse-durable-tmpfs", Guid.NewGuid().ToString("N"));
    private readonly CapturingLoggerFactory _logs = new();
    private readonly FakeTimeProvider _clock = new(DurableTestRecords.Now);
    private bool _mounted;

    public void Dispose()
    {
        if (_mounted && Unix.Run("umount", _mount).ExitCode != 0)
        {
            Unix.Run("umount", "-l", _mount);
        }

        try
        {
            Directory.Delete(_mount, recursive: true);
        }
        catch (IOException)
        {
        }

        _logs.Dispose();
    }

    [RootFact]
    public void OnARealFullDisk_AppendsFailCleanly_NothingAcknowledgedIsLost_AndTheyResumeWhenSpaceReturns()
    {
        Directory.CreateDirectory(_mount);
        var (code, output) = Unix.Run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", _mount);
        code.ShouldBe(0, $"mounting a tmpfs (root is needed; in a container also CAP_SYS_ADMIN): {output}");
        _mounted = true;
        var directory = Path.Combine(_mount, "queue");
        var drops = new DropCounter();
        using var queue = new DurableQueue(new DurableQueueOptions { Directory = directory }, drops.Callback, _logs.CreateLogger(DurableLog.CategoryName), _clock);
        queue.IsAvailable.ShouldBeTrue();

        var acked = new List<int>();
        var failures = 0;
        for (var i = 0; i < 60 && failures < 3; i++)
        {
            var records = DurableTestRecords.Records(i * 10, 2, payloadBytes: 5_000);
            var outcome = queue.Append(records);
            if (outcome == AppendOutcome.Stored)
            {
                acked.AddRange(records.Select(DurableTestRecords.IndexOf));
                failures.ShouldBe(0, "once the disk is full, nothing fits until space returns");
            }
            else
            {
                outcome.ShouldBe(AppendOutcome.WriteFailed);
                failures++;
            }
        }

        failures.ShouldBe(3, "the 256 KiB disk must fill up");
        acked.Count.ShouldBeGreaterThan(10);
        Directory.GetFiles(directory, "*.tmp").ShouldBeEmpty("a failed append leaves no temporary file");
        _logs.Entries.Count(e => e.EventId.Id == 62).ShouldBe(1, "one line when writes start failing, not one per append");

        // Every acknowledged record is there, intact, and nothing else is damaged.
        var held = new List<DurableSegment>();
        var found = new List<int>();
        while (queue.TryTakeOldest(out var segment))
        {
            foreach (var record in segment!.Records)
            {
                record.ShouldMatch(DurableTestRecords.Record(DurableTestRecords.IndexOf(record), payloadBytes: 5_000));
                found.Add(DurableTestRecords.IndexOf(record));
            }

            held.Add(segment);
        }

        found.ShouldBe(acked);
        drops.Total.ShouldBe(0);

        // Space returns (the forwarder delivered the oldest): appends work again by themselves.
        foreach (var delivered in held.Take(4))
        {
            queue.Complete(delivered);
        }

        foreach (var kept in held.Skip(4))
        {
            queue.Release(kept);
        }

        var more = DurableTestRecords.Records(1000, 2, payloadBytes: 5_000);
        queue.Append(more).ShouldBe(AppendOutcome.Stored);
        _logs.Entries.ShouldContain(e => e.EventId.Id == 63, "one line when writing works again");

        var remaining = new List<int>();
        while (queue.TryTakeOldest(out var segment))
        {
            remaining.AddRange(segment!.Records.Select(DurableTestRecords.IndexOf));
            queue.Complete(segment);
        }

        remaining.ShouldBe([.. acked.Skip(8), .. more.Select(DurableTestRecords.IndexOf)]);
    }
}
