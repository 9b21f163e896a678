using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>Clients sending to a relay process while its upstream is down, then the upstream coming back.</summary>
public sealed class UpstreamOutageTests
{
    /// <summary>
    /// The upstream answers 503, then drops connections, then 429 with Retry-After; clients keep sending every kind
    /// of request and the relay acknowledges them all; once the upstream heals, everything arrives, each request
    /// forwarded with its content type and encoding, under the relay's own upstream credentials.
    /// </summary>
    [Fact]
    public async Task UpstreamDown_ClientsSend_RelayAcknowledges_ThenHeal_EverythingDelivered()
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        upstream.FailAll(503);
        using var buffer = new TempDirectory();
        await using var relay = await RelayProcess.StartAsync(new RelayConfig(upstream, buffer.Path));
        using var client = relay.CreateClient();
        var spans = new List<string>();
        var events = new List<string>();

        async Task SendRoundAsync()
        {
            foreach (var kind in Enum.GetValues<PayloadKind>())
            {
                var payload = Payload.Create(kind, 4);
                using var request = payload.ToRequest();
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                ((int)response.StatusCode).ShouldBe(kind == PayloadKind.Batch ? 207 : 200, $"{kind}: {body}\n{relay.Output}");
                var acknowledged = await Payload.AcknowledgedAsync(payload, response);
                acknowledged.SpanIds.Count.ShouldBe(payload.SpanIds.Count, body);
                acknowledged.EventIds.Count.ShouldBe(payload.EventIds.Count, body);
                spans.AddRange(acknowledged.SpanIds);
                events.AddRange(acknowledged.EventIds);
            }
        }

        await SendRoundAsync();
        await upstream.WaitUntilAsync(s => s.Requests.Any(r => r.StatusCode == 503), TimeSpan.FromSeconds(15), "a forwarding attempt answered 503");

        for (var i = 0; i < 3; i++)
        {
            upstream.EnqueueFor(FakePath.Export, FakeResponse.DropConnection());
        }

        await SendRoundAsync();
        await upstream.WaitUntilAsync(s => s.PendingResponses == 0, TimeSpan.FromSeconds(15), "the dropped connections used up");

        upstream.FailAll(429, retryAfter: "1");
        await SendRoundAsync();
        await upstream.WaitUntilAsync(s => s.Requests.Any(r => r.StatusCode == 429), TimeSpan.FromSeconds(15), "a forwarding attempt answered 429");
        upstream.Spans.ShouldBeEmpty();
        upstream.IngestionEvents.ShouldBeEmpty();

        upstream.Heal();
        await SendRoundAsync();
        await Delivery.WaitForAllAsync(upstream, spans, events, TimeSpan.FromSeconds(30), () => relay.Output);

        var delivered = upstream.Requests.Where(r => r.StatusCode is 200 or 207).ToList();
        delivered.ShouldContain(r => r.Path == FakeLangfuseServer.OtlpPath && r.ContentType!.StartsWith("application/x-protobuf") && r.ContentEncoding == null);
        delivered.ShouldContain(r => r.Path == FakeLangfuseServer.OtlpPath && r.ContentType!.StartsWith("application/x-protobuf") && r.ContentEncoding == "gzip");
        delivered.ShouldContain(r => r.Path == FakeLangfuseServer.OtlpPath && r.ContentType!.StartsWith("application/json"));
        delivered.ShouldContain(r => r.Path == FakeLangfuseServer.IngestionPath);
        delivered.ShouldAllBe(r => r.Header("Authorization") == upstream.CreateAuthorizationHeader().ToString());
    }
}
