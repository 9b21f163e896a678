using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>The official Langfuse JS SDKs, unmodified but for their base URL, against a real relay process.</summary>
public sealed class JsSdkTests
{
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(45);

    /// <summary>
    /// Control: the JS scripts against the fake Langfuse directly, no relay. Proves their acknowledgement counting and
    /// the fake's acceptance of what they send, so a failure of the relay test below is the relay's.
    /// </summary>
    [Theory]
    [InlineData("otlp.mjs")]
    [InlineData("legacy.mjs")]
    public async Task JsSdk_AgainstFakeLangfuseDirectly_EverythingAcknowledgedIsRecorded(string script)
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });

        var run = await JsClients.RunAsync(script, upstream.BaseUrl, upstream.PublicKey, upstream.SecretKey, traces: 4);

        run.Failed.ShouldBeEmpty(run.Output);
        run.Acked.Count.ShouldBe(script == "otlp.mjs" ? 12 : 4 * 6, run.Output); // 3 spans a trace; legacy: 6 events a trace (trace, span and generation create, 2 updates, score)
        upstream.Violations.ShouldBeEmpty();
        await Delivery.WaitForAllAsync(upstream, script == "otlp.mjs" ? run.Acked : [], script == "otlp.mjs" ? [] : run.Acked, TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// Done-when of the relay: with the upstream down, the official JS SDKs (OTLP through @langfuse/otel on
    /// @opentelemetry/sdk-node, and legacy batch through langfuse 3.x) send to the relay, changing only their base URL;
    /// the relay is SIGKILLed and restarted on its buffer directory; once the upstream is back, every span and every
    /// batch event the relay acknowledged to them reaches it.
    /// </summary>
    [Fact]
    public async Task JsSdks_UpstreamDown_RelaySigkilledAndRestarted_EveryAcknowledgedSpanAndEventArrives()
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        upstream.FailAll(503);
        using var buffer = new TempDirectory();
        var config = new RelayConfig(upstream, buffer.Path);
        var first = await RelayProcess.StartAsync(config);
        JsRun otlp, legacy;
        try
        {
            var runs = await Task.WhenAll(
                JsClients.RunAsync("otlp.mjs", first.BaseUrl, RelayConfig.ClientPublicKey, RelayConfig.ClientSecretKey, traces: 10),
                JsClients.RunAsync("legacy.mjs", first.BaseUrl, RelayConfig.ClientPublicKey, RelayConfig.ClientSecretKey, traces: 10));
            (otlp, legacy) = (runs[0], runs[1]);
        }
        finally
        {
            await first.KillAndWaitAsync();
        }

        otlp.Failed.ShouldBeEmpty(otlp.Output + first.Output);
        otlp.Acked.Count.ShouldBe(30, otlp.Output);
        legacy.Failed.ShouldBeEmpty(legacy.Output + first.Output);
        legacy.Acked.Count.ShouldBe(60, legacy.Output);
        upstream.Spans.ShouldBeEmpty();
        upstream.IngestionEvents.ShouldBeEmpty();

        await using var second = await RelayProcess.StartAsync(config);
        upstream.Heal();
        await Delivery.WaitForAllAsync(upstream, otlp.Acked, legacy.Acked, DeliveryTimeout, () => $"first relay:\n{first.Output}\nsecond relay:\n{second.Output}");
        upstream.Violations.ShouldBeEmpty();
    }
}
