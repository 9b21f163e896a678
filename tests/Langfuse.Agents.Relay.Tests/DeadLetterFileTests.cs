using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Relay.Internal;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>Finding 8 and must-hold 7: the dead-letter file is bounded (rotated, counted) and never followed out of its directory.</summary>
public sealed class DeadLetterFileTests : IDisposable
{
    private const long Cap = 64 * 1024;
    private readonly string _directory = Directory.CreateTempSubdirectory("langfuse-dead-letter-").FullName;

    [Fact]
    public void ManyEntries_TakeAtMostTwiceTheCap_AndEveryEntryIsOnDiskOrCountedDiscarded()
    {
        var file = new DeadLetterFile(Path.Combine(_directory, DeadLetterFile.FileName), Cap, TimeProvider.System);

        for (var i = 0; i < 500; i++)
        {
            file.Append(Record(2000, i), "HTTP 400");
        }

        var current = new FileInfo(file.Path);
        var rotated = new FileInfo(file.RotatedPath);
        current.Length.ShouldBeLessThanOrEqualTo(Cap);
        rotated.Length.ShouldBeLessThanOrEqualTo(Cap);
        file.Written.ShouldBe(500);
        file.Rotations.ShouldBeGreaterThan(1);
        var kept = File.ReadAllLines(file.Path).Length + File.ReadAllLines(file.RotatedPath).Length;
        (kept + file.Discarded).ShouldBe(500);
        File.ReadAllLines(file.Path)[^1].ShouldContain("\"items\":1");
        Directory.GetFiles(_directory).Length.ShouldBe(2);
    }

    [Fact]
    public void EntryLargerThanTheCap_IsWrittenWithoutItsBody_AndCounted()
    {
        var file = new DeadLetterFile(Path.Combine(_directory, DeadLetterFile.FileName), Cap, TimeProvider.System);

        var record = Record(200_000, 1);
        file.Append(record, "HTTP 413");

        file.BodiesOmitted.ShouldBe(1);
        var line = File.ReadAllText(file.Path);
        line.ShouldContain("\"bodyOmitted\":true");
        line.ShouldContain($"\"bodyBytes\":{record.Payload.Length}");
        new FileInfo(file.Path).Length.ShouldBeLessThan(1000);
    }

    [Fact]
    public void LinkInPlaceOfTheFile_IsRefusedWithAReason_AndItsTargetUntouched()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var outside = Path.Combine(Path.GetTempPath(), "outside-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(outside, "");
        try
        {
            var path = Path.Combine(_directory, DeadLetterFile.FileName);
            File.CreateSymbolicLink(path, outside);
            var file = new DeadLetterFile(path, Cap, TimeProvider.System);

            var error = Should.Throw<IOException>(() => file.Append(Record(10, 1), "HTTP 400"));

            error.Message.ShouldContain("symbolic link");
            File.ReadAllText(outside).ShouldBeEmpty();
        }
        finally
        {
            File.Delete(outside);
        }
    }

    [Fact]
    public void FifoInPlaceOfTheFile_IsRefused_WithoutBlocking()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var path = Path.Combine(_directory, DeadLetterFile.FileName);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]))
        {
            mkfifo.WaitForExit();
            mkfifo.ExitCode.ShouldBe(0);
        }

        var file = new DeadLetterFile(path, Cap, TimeProvider.System);

        var error = Should.Throw<IOException>(() => file.Append(Record(10, 1), "HTTP 400"));

        error.Message.ShouldContain("FIFO");
    }

    [Fact]
    public void LinkInPlaceOfTheRotatedFile_IsReplaced_NotFollowed()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var outside = Path.Combine(Path.GetTempPath(), "outside-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(outside, "keep\n");
        try
        {
            var file = new DeadLetterFile(Path.Combine(_directory, DeadLetterFile.FileName), Cap, TimeProvider.System);
            File.CreateSymbolicLink(file.RotatedPath, outside);

            for (var i = 0; i < 100; i++)
            {
                file.Append(Record(2000, i), "HTTP 400");
            }

            File.ReadAllText(outside).ShouldBe("keep\n");
            new FileInfo(file.RotatedPath).LinkTarget.ShouldBeNull();
        }
        finally
        {
            File.Delete(outside);
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static DurableRecord Record(int size, int n)
    {
        var json = "{\"batch\":[{\"id\":\"" + n + "\",\"pad\":\"" + new string('x', size) + "\"}]}";
        return new DurableRecord(PayloadKind.IngestionBatch, 1, DateTimeOffset.UtcNow, System.Text.Encoding.UTF8.GetBytes(json));
    }
}
