using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Relay.ProcessTests;

public sealed class BufferDirectoryTests
{
    /// <summary>
    /// A second relay on a buffer directory another relay holds exits non-zero with a message naming the directory;
    /// the first keeps working. Once the first is gone (SIGKILL), the directory is free again.
    /// </summary>
    [Fact]
    public async Task SecondRelay_OnSameBufferDirectory_ExitsNonZeroWithClearMessage_FirstKeepsWorking()
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        using var buffer = new TempDirectory();
        var config = new RelayConfig(upstream, buffer.Path);
        await using var first = await RelayProcess.StartAsync(config);

        var (exitCode, output) = await RelayProcess.RunToExitAsync(config, TimeSpan.FromSeconds(30));

        exitCode.ShouldNotBe(0, output);
        output.ShouldContain(buffer.Path, Case.Sensitive, "the message names the directory in use:\n" + output);
        output.ShouldNotContain("Unhandled exception", Case.Insensitive, "a clear message, not a crash:\n" + output);
        output.ShouldNotContain(RelayConfig.ClientSecretKey);
        output.ShouldNotContain(upstream.SecretKey);

        using var client = first.CreateClient();
        var payload = Payload.OtlpProtobuf(3);
        using (var request = payload.ToRequest())
        using (var response = await client.SendAsync(request))
        {
            ((int)response.StatusCode).ShouldBe(200, first.Output);
        }

        await Delivery.WaitForAllAsync(upstream, payload.SpanIds, [], TimeSpan.FromSeconds(15), () => first.Output);

        await first.KillAndWaitAsync();
        await using var third = await RelayProcess.StartAsync(config);
        using var thirdClient = third.CreateClient();
        (await thirdClient.GetAsync("api/public/health")).IsSuccessStatusCode.ShouldBeTrue(third.Output);
    }

    /// <summary>
    /// Finding 7: a <c>relay.lock</c> the relay cannot use (a directory, a FIFO, a link planted in its place) made it
    /// abort with SIGABRT; it now exits 3 with one line naming the file and why.
    /// </summary>
    [Theory]
    [InlineData("directory", "is a directory")]
    [InlineData("fifo", "FIFO")]
    [InlineData("symlink", "symbolic link")]
    public async Task RelayLockThatCannotBeUsed_ExitsWith3AndAClearLine(string kind, string reason)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // mkfifo and O_NOFOLLOW semantics as tested here are Linux's
        }

        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        using var buffer = new TempDirectory();
        File.SetUnixFileMode(buffer.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var lockPath = Path.Combine(buffer.Path, "relay.lock");
        var outside = Path.Combine(Path.GetTempPath(), "relay-lock-target-" + Guid.NewGuid().ToString("N"));
        switch (kind)
        {
            case "directory":
                Directory.CreateDirectory(lockPath);
                break;
            case "fifo":
                using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [lockPath]))
                {
                    await mkfifo.WaitForExitAsync();
                    mkfifo.ExitCode.ShouldBe(0);
                }

                break;
            default:
                File.WriteAllText(outside, "");
                File.CreateSymbolicLink(lockPath, outside);
                break;
        }

        try
        {
            var (exitCode, output) = await RelayProcess.RunToExitAsync(new RelayConfig(upstream, buffer.Path), TimeSpan.FromSeconds(30));

            exitCode.ShouldBe(3, output);
            output.ShouldContain("relay.lock", Case.Sensitive, output);
            output.ShouldContain(reason, Case.Insensitive, output);
            output.ShouldNotContain("Unhandled exception", Case.Insensitive, output);
        }
        finally
        {
            File.Delete(outside);
        }
    }
}
