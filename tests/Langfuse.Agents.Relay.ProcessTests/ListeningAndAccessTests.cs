using System.Net;
using System.Text.Json;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>Finding 8 and must-hold 9: the relay says what it really binds, and guards its status beyond loopback.</summary>
public sealed class ListeningAndAccessTests
{
    /// <summary>
    /// Official aspnet images set <c>ASPNETCORE_HTTP_PORTS=8080</c>: the relay then binds every interface, and used to
    /// print <c>localhost</c>. Port 0 here picks a free port the same way.
    /// </summary>
    [Fact]
    public async Task WithAspNetCoreHttpPorts_ItPrintsTheAnyAddress_AndStatusNeedsCredentials()
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        using var buffer = new TempDirectory();
        var config = new RelayConfig(upstream, buffer.Path)
        {
            Urls = null,
            Extra = new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "0" },
        };
        await using var relay = await RelayProcess.StartAsync(config);

        var line = relay.Output.Split('\n').Single(l => l.Contains("relay listening on", StringComparison.Ordinal));
        line.ShouldNotContain("localhost");
        line.ShouldMatch(@"relay listening on http://(\[::\]|0\.0\.0\.0):\d+");
        line.ShouldContain("not only loopback");

        var local = new Uri($"http://127.0.0.1:{relay.Port}/");
        using (var anonymous = new HttpClient { BaseAddress = local })
        using (var response = await anonymous.GetAsync("relay/status"))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await response.Content.ReadAsStringAsync()).ShouldNotContain(buffer.Path);
        }

        using (var wrong = RelayProcess.CreateClient(local, RelayConfig.ClientPublicKey, "sk-lf-wrong"))
        using (var response = await wrong.GetAsync("relay/status"))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using var client = RelayProcess.CreateClient(local);
        using var status = JsonDocument.Parse(await client.GetStringAsync("relay/status"));
        status.RootElement.GetProperty("bufferDirectory").GetString().ShouldBe(buffer.Path);
        using var health = await new HttpClient { BaseAddress = local }.GetAsync("api/public/health");
        health.StatusCode.ShouldBe(HttpStatusCode.OK, "health stays open: load balancers probe it without keys");
    }

    [Fact]
    public async Task OnLoopback_ItPrintsTheLoopbackAddress_AndStatusIsOpenWithoutPaths()
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        using var buffer = new TempDirectory();
        await using var relay = await RelayProcess.StartAsync(new RelayConfig(upstream, buffer.Path));

        relay.Output.ShouldMatch(@"relay listening on http://127\.0\.0\.1:\d+\r?\n");
        using var anonymous = new HttpClient { BaseAddress = relay.BaseUrl };
        var status = await anonymous.GetStringAsync("relay/status");
        status.ShouldNotContain(buffer.Path);
        status.ShouldContain("\"accepted\"");
    }
}
