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
}
