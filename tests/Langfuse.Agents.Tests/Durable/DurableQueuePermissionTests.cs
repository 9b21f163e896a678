using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// The buffer holds trace contents, so it must be private to the user. A directory owned by another user cannot be
/// made here (the tests run as root, who may chmod anything), so that case is a refused chmod from
/// <see cref="FaultyFileSystem"/>, which is what a non-owner gets (EPERM).
/// </summary>
public sealed class DurableQueuePermissionTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly DurableTestDirectory _dir = new();
    private readonly CapturingLoggerFactory _logs = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Open_CreatesTheDirectory0700_AndEveryFile0600()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var queue = new DurableQueue(new DurableQueueOptions { Directory = _dir.Path });
        queue.Append(DurableTestRecords.Records(0, 1, DateTimeOffset.UtcNow, payloadBytes: 10)).ShouldBe(AppendOutcome.Stored);
        queue.TryTakeOldest(out _).ShouldBeTrue(); // creates replay.lock

        File.GetUnixFileMode(_dir.Path).ShouldBe(Private);
        _dir.Files().ShouldBe([_dir.Segments()[0], DurableQueue.LockFileName], ignoreOrder: true);
        foreach (var name in _dir.Files())
        {
            File.GetUnixFileMode(_dir.File(name)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite, name);
        }
    }

    [Fact]
    public void Open_ExistingDirectory0755_IsMadePrivate()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Directory.CreateDirectory(_dir.Path);
        File.SetUnixFileMode(_dir.Path, Private | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        using var queue = Open(DurableFileSystem.Instance);

        queue.IsAvailable.ShouldBeTrue();
        File.GetUnixFileMode(_dir.Path).ShouldBe(Private);
        _logs.Entries.ShouldNotContain(e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public void Open_DirectoryThatCannotBeMadePrivate_IsUnavailable_AndSaysSoOnce()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Directory.CreateDirectory(_dir.Path);
        File.SetUnixFileMode(_dir.Path, Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        using var queue = Open(new FaultyFileSystem { FailChmod = true });

        queue.IsAvailable.ShouldBeFalse();
        queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Unavailable);
        queue.Append(DurableTestRecords.Records(1, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Unavailable);
        queue.TryTakeOldest(out _).ShouldBeFalse();
        _dir.Files().ShouldBeEmpty();
        var warning = _logs.Entries.ShouldHaveSingleItem();
        warning.Level.ShouldBe(LogLevel.Warning);
        warning.Message.ShouldContain(_dir.Path);
        warning.Message.ShouldContain("not private");
    }

    [Fact]
    public void Open_PathThatIsAFile_IsUnavailable_AndNeverThrows()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_dir.Path)!);
        File.WriteAllText(_dir.Path, "not a directory");
        try
        {
            using var queue = Open(DurableFileSystem.Instance);

            queue.IsAvailable.ShouldBeFalse();
            queue.Append(DurableTestRecords.Records(0, 1, payloadBytes: 10)).ShouldBe(AppendOutcome.Unavailable);
            _logs.Entries.ShouldHaveSingleItem().Message.ShouldContain(_dir.Path);
        }
        finally
        {
            File.Delete(_dir.Path);
        }
    }

    private DurableQueue Open(IDurableFileSystem files) =>
        new(new DurableQueueOptions { Directory = _dir.Path }, logger: _logs.CreateLogger(DurableLog.CategoryName), fileSystem: files);
}
