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
}
