using System.Globalization;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// The buffer directory trusts nothing it finds. Each test builds a hostile layout for real (FIFOs with mkfifo,
/// symbolic links, a directory where the lock file belongs, files chowned to another uid) and checks that the queue
/// neither follows, waits on, reads, forwards, chmods nor deletes what it did not write, and says why in a log line.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DurableQueueHostileDirectoryTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    private readonly DurableTestDirectory _dir = new();
    private readonly DurableTestDirectory _elsewhere = new();
    private readonly CapturingLoggerFactory _logs = new();
    private readonly FakeTimeProvider _clock = new(DurableTestRecords.Now);
    private int _planted;

    public void Dispose()
    {
        _dir.Dispose();
        _elsewhere.Dispose();
        _logs.Dispose();
    }

    [RootFact]
    public void PreCreated0777Directory_IsMadePrivate_AndASegmentPlantedByAnotherUserIsNeverReturned()
    {
        Directory.CreateDirectory(_dir.Path);
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)Convert.ToInt32("777", 8));
        var planted = Plant(_dir.Path, DurableTestRecords.Records(0, 2, payloadBytes: 50));
        Unix.ChangeOwner(planted, Unix.Nobody);

        using var queue = Open();
        queue.IsAvailable.ShouldBeTrue();
        File.GetUnixFileMode(_dir.Path).ShouldBe(Private);

        queue.TryTakeOldest(out var segment).ShouldBeFalse($"another user's segment must not be forwarded: got {segment?.Path}");
        queue.Stats.Segments.ShouldBe(0);
        File.Exists(planted).ShouldBeTrue("what is not ours is not deleted either");
        _logs.Entries.ShouldContain(e => e.Level == LogLevel.Warning && e.Message.Contains("writable by other users", StringComparison.Ordinal));
        _logs.Entries.ShouldContain(e => e.Level == LogLevel.Warning && e.Message.Contains(Path.GetFileName(planted), StringComparison.Ordinal)
            && e.Message.Contains($"owned by uid {Unix.Nobody}", StringComparison.Ordinal));

        // The queue still works for its own data.
        queue.Append(DurableTestRecords.Records(10, 1, payloadBytes: 20)).ShouldBe(AppendOutcome.Stored);
        queue.TryTakeOldest(out var own).ShouldBeTrue();
        DurableTestRecords.IndexOf(own!.Records[0]).ShouldBe(10);
    }

    [RootFact]
    public void DirectoryOwnedByAnotherUser_IsRefused_AndNotChmodded()
    {
        Directory.CreateDirectory(_dir.Path);
        var mode = (UnixFileMode)Convert.ToInt32("755", 8);
        File.SetUnixFileMode(_dir.Path, mode);
        Unix.ChangeOwner(_dir.Path, Unix.Nobody);

        using var queue = Open();

        queue.IsAvailable.ShouldBeFalse();
        File.GetUnixFileMode(_dir.Path).ShouldBe(mode);
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Unavailable);
        _dir.Files().ShouldBeEmpty();
        var line = _logs.Entries.ShouldHaveSingleItem();
        line.Level.ShouldBe(LogLevel.Warning);
        line.Message.ShouldContain(_dir.Path);
        line.Message.ShouldContain($"owned by uid {Unix.Nobody}");
    }

    [UnixFact]
    public async Task FifoNamedLikeASegment_AtOpen_NeitherHangsNorStopsTheRest()
    {
        Directory.CreateDirectory(_dir.Path);
        var fifo = Path.Combine(_dir.Path, SegmentName(1));
        Unix.MakeFifo(fifo);
        Plant(_dir.Path, DurableTestRecords.Records(5, 1, payloadBytes: 30));

        using var queue = await WithinAsync(Open, fifo, "opening the queue");

        queue.IsAvailable.ShouldBeTrue();
        queue.TryTakeOldest(out var segment).ShouldBeTrue();
        DurableTestRecords.IndexOf(segment!.Records[0]).ShouldBe(5);
        _logs.Entries.ShouldContain(e => e.Message.Contains(Path.GetFileName(fifo), StringComparison.Ordinal) && e.Message.Contains("FIFO", StringComparison.Ordinal));
    }

    [UnixFact]
    public async Task FifoPlantedWhileRunning_NeitherHangsTakesNorAppendsNorStats()
    {
        using var queue = Open();
        queue.Append(DurableTestRecords.Records(1, 1, payloadBytes: 30)).ShouldBe(AppendOutcome.Stored);
        var fifo = Path.Combine(_dir.Path, SegmentName(0)); // older than the queue's own: the first a take would read
        Unix.MakeFifo(fifo);

        var taken = await WithinAsync(() => queue.TryTakeOldest(out var s) ? s : null, fifo, "a take");
        taken.ShouldNotBeNull();
        DurableTestRecords.IndexOf(taken.Records[0]).ShouldBe(1);
        (await WithinAsync(() => queue.Append(DurableTestRecords.Records(2, 1, payloadBytes: 30)), fifo, "an append")).ShouldBe(AppendOutcome.Stored);
        (await WithinAsync(() => queue.Stats, fifo, "stats")).Segments.ShouldBe(2);
        _logs.Entries.Count(e => e.Message.Contains(Path.GetFileName(fifo), StringComparison.Ordinal)).ShouldBe(1, "said once, not on every take");
        queue.TryTakeOldest(out _).ShouldBeTrue();
        _logs.Entries.Count(e => e.Message.Contains(Path.GetFileName(fifo), StringComparison.Ordinal)).ShouldBe(1);
    }

    [UnixFact]
    public async Task SymlinkToDevZeroNamedLikeASegment_IsNeverRead()
    {
        Directory.CreateDirectory(_dir.Path);
        var link = Path.Combine(_dir.Path, SegmentName(1));
        File.CreateSymbolicLink(link, "/dev/zero");

        using var queue = await WithinAsync(Open, null, "opening the queue");

        queue.IsAvailable.ShouldBeTrue();
        (await WithinAsync(() => queue.TryTakeOldest(out _), null, "a take")).ShouldBeFalse();
        queue.Stats.Bytes.ShouldBe(0);
        _logs.Entries.ShouldContain(e => e.Level == LogLevel.Warning && e.Message.Contains(Path.GetFileName(link), StringComparison.Ordinal)
            && e.Message.Contains("symbolic link", StringComparison.Ordinal));
        _logs.Entries.ShouldNotContain(e => e.Message.Contains("permission", StringComparison.OrdinalIgnoreCase));
    }

    [UnixFact]
    public void SymlinkToAValidSegmentElsewhere_IsNotFollowed()
    {
        Directory.CreateDirectory(_dir.Path);
        Directory.CreateDirectory(_elsewhere.Path);
        var target = Plant(_elsewhere.Path, DurableTestRecords.Records(7, 1, payloadBytes: 30));
        File.CreateSymbolicLink(Path.Combine(_dir.Path, SegmentName(1)), target);

        using var queue = Open();

        queue.TryTakeOldest(out var segment).ShouldBeFalse($"a linked segment must not be forwarded: got {segment?.Path}");
        File.Exists(target).ShouldBeTrue();
    }

    [UnixFact]
    public void DirectoryNamedReplayLock_MakesTheQueueRefuse_SayingWhy()
    {
        Directory.CreateDirectory(Path.Combine(_dir.Path, DurableQueue.LockFileName));

        using var queue = Open();

        queue.IsAvailable.ShouldBeFalse("accepting data that can never be replayed would acknowledge forever and forward nothing");
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Unavailable);
        var line = _logs.Entries.ShouldHaveSingleItem();
        line.Level.ShouldBe(LogLevel.Warning);
        line.Message.ShouldContain(DurableQueue.LockFileName);
        line.Message.ShouldContain("is a directory");
    }

    [UnixFact]
    public void DirectoryNamedReplayLock_PlantedWhileRunning_StopsAcceptingAndSaysWhy()
    {
        using var queue = Open();
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Stored);
        Directory.CreateDirectory(Path.Combine(_dir.Path, DurableQueue.LockFileName));

        queue.TryTakeOldest(out _).ShouldBeFalse();

        queue.IsAvailable.ShouldBeFalse();
        queue.Append(DurableTestRecords.Records(1, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Unavailable);
        _logs.Entries.ShouldContain(e => e.Level == LogLevel.Warning && e.Message.Contains(DurableQueue.LockFileName, StringComparison.Ordinal)
            && e.Message.Contains("is a directory", StringComparison.Ordinal));
        _dir.Segments().Length.ShouldBe(1, "what was stored stays stored");
    }

    [UnixFact]
    public void QueueDirectoryThatIsASymlink_IsRefused_NeitherChmoddedNorCleanedUp()
    {
        Directory.CreateDirectory(_elsewhere.Path);
        var mode = (UnixFileMode)Convert.ToInt32("755", 8);
        File.SetUnixFileMode(_elsewhere.Path, mode);
        var theirTemporary = Path.Combine(_elsewhere.Path, SegmentName(1) + ".999999.tmp");
        File.WriteAllText(theirTemporary, "someone else's");
        File.SetLastWriteTimeUtc(theirTemporary, DateTime.UtcNow.AddDays(-2));
        Directory.CreateDirectory(Path.GetDirectoryName(_dir.Path)!);
        Directory.CreateSymbolicLink(_dir.Path, _elsewhere.Path);

        using var queue = Open();

        queue.IsAvailable.ShouldBeFalse();
        File.GetUnixFileMode(_elsewhere.Path).ShouldBe(mode);
        File.Exists(theirTemporary).ShouldBeTrue();
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Unavailable);
        Directory.GetFiles(_elsewhere.Path).ShouldBe([theirTemporary]);
        _logs.Entries.ShouldHaveSingleItem().Message.ShouldContain("symbolic link");
    }

    [UnixFact]
    public void SdkPerHostDirectoryPlantedAsASymlinkInASharedRoot_IsRefused()
    {
        var options = new LangfuseOptions
        {
            BufferDirectory = _dir.Path,
            BaseUrl = new Uri("https://cloud.langfuse.com"),
            PublicKey = "pk-lf-test",
        };
        Directory.CreateDirectory(_dir.Path);
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)Convert.ToInt32("1777", 8)); // a shared root, like /tmp
        Directory.CreateDirectory(_elsewhere.Path);
        var theirTemporary = Path.Combine(_elsewhere.Path, SegmentName(1) + ".999999.tmp");
        File.WriteAllText(theirTemporary, "someone else's");
        var perHost = BufferLocation.Resolve(options);
        Directory.CreateSymbolicLink(perHost, _elsewhere.Path); // its name is computable from host and public key

        using var metrics = new LangfuseMetrics();
        using var queue = DurableQueueFactory.Open(options, _clock, _logs.CreateLogger(DurableLog.CategoryName), metrics);

        queue.ShouldNotBeNull().IsAvailable.ShouldBeFalse();
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Unavailable);
        Directory.GetFiles(_elsewhere.Path).ShouldBe([theirTemporary], "nothing written into, nor deleted from, the other user's directory");
        File.GetUnixFileMode(_elsewhere.Path).ShouldNotBe(Private);
        _logs.Entries.ShouldContain(e => e.Message.Contains(perHost, StringComparison.Ordinal) && e.Message.Contains("symbolic link", StringComparison.Ordinal));
    }

    [UnixFact]
    public void EveryDirectoryTheQueueCreates_Is0700_IncludingMissingParents()
    {
        var root = Path.Combine(_dir.Path, "buffer-root");
        var nested = Path.Combine(root, "a", "b");

        using var queue = new DurableQueue(new DurableQueueOptions { Directory = nested }, logger: _logs.CreateLogger(DurableLog.CategoryName));

        queue.IsAvailable.ShouldBeTrue();
        foreach (var created in new[] { _dir.Path, root, Path.Combine(root, "a"), nested })
        {
            File.GetUnixFileMode(created).ShouldBe(Private, created);
        }
    }

    [UnixFact]
    public void BufferDirSetButMissing_IsCreated0700_AsIsItsPerHostDirectory()
    {
        var options = new LangfuseOptions { BufferDirectory = _dir.Path, BaseUrl = new Uri("https://cloud.langfuse.com"), PublicKey = "pk-lf-test" };

        using var metrics = new LangfuseMetrics();
        using var queue = DurableQueueFactory.Open(options, _clock, _logs.CreateLogger(DurableLog.CategoryName), metrics);

        queue.ShouldNotBeNull().IsAvailable.ShouldBeTrue();
        File.GetUnixFileMode(_dir.Path).ShouldBe(Private, "LANGFUSE_BUFFER_DIR itself, created by the SDK");
        File.GetUnixFileMode(BufferLocation.Resolve(options)).ShouldBe(Private);
    }

    [UnixFact]
    public void SegmentGrownPastItsDeclaredSize_IsReadOnlyUpToIt()
    {
        using (var writer = Open())
        {
            writer.Append(DurableTestRecords.Records(0, 2, payloadBytes: 40)).ShouldBe(AppendOutcome.Stored);
        }

        var path = _dir.File(_dir.Segments().ShouldHaveSingleItem());
        var written = new FileInfo(path).Length;
        using (var file = new FileStream(path, FileMode.Append))
        {
            file.Write(DurableFormat.EncodeSegment(DurableTestRecords.Records(50, 1, payloadBytes: 40)).AsSpan(DurableFormat.SegmentHeaderSize));
        }

        var drops = new DropCounter();
        using var queue = new DurableQueue(new DurableQueueOptions { Directory = _dir.Path }, drops.Callback, timeProvider: _clock);
        queue.TryTakeOldest(out var segment).ShouldBeTrue();

        segment!.Records.Select(DurableTestRecords.IndexOf).ShouldBe([0, 1], "a record appended after the declared end is not the queue's");
        drops.Total.ShouldBe(0);
        written.ShouldBeLessThan(new FileInfo(path).Length);
    }

    /// <summary>Runs <paramref name="action"/> on its own thread; fails (instead of hanging the suite) if it blocks, then unblocks a FIFO it waits on.</summary>
    private static async Task<T> WithinAsync<T>(Func<T> action, string? fifo, string what)
    {
        var run = Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            return await run.WaitAsync(HangGuard);
        }
        catch (TimeoutException)
        {
            if (fifo is not null)
            {
                using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write); // releases an open blocked on the FIFO
            }

            throw new TimeoutException($"{what} hung for {HangGuard} on a hostile file");
        }
    }

    private string SegmentName(long ticksOffset) =>
        string.Create(CultureInfo.InvariantCulture, $"{DurableTestRecords.Now.UtcTicks - 1_000_000 + ticksOffset:D19}-{424242:D10}-{++_planted:D10}{DurableQueue.SegmentExtension}");

    /// <summary>A well-formed segment written by hand (as another user could), returned by path.</summary>
    private string Plant(string directory, DurableRecord[] records)
    {
        var path = Path.Combine(directory, SegmentName(2));
        File.WriteAllBytes(path, DurableFormat.EncodeSegment(records));
        return path;
    }

    private DurableQueue Open() =>
        new(new DurableQueueOptions { Directory = _dir.Path }, logger: _logs.CreateLogger(DurableLog.CategoryName), timeProvider: _clock);
}
