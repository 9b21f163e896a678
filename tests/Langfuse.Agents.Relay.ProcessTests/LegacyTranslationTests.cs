using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>
/// Must-hold 8, end to end: the official legacy JS SDK (langfuse 3.x, batch events only) pointed at a real relay process
/// whose upstream is a v4 Langfuse, which takes observations only as OTLP. Nothing it acknowledged is dead-lettered: the
/// relay translates the refused events into OTLP with the SDK's own ids.
/// </summary>
public sealed class LegacyTranslationTests
{
    [Fact]
    public async Task LegacyJsSdk_ThroughTheRelay_ToAV4Langfuse_ArrivesAsOtlpSpansWithItsOwnIds()
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V4, AcceptStringIds = true });
        using var buffer = new TempDirectory();
        await using var relay = await RelayProcess.StartAsync(new RelayConfig(upstream, buffer.Path));

        var run = await JsClients.RunAsync("legacy.mjs", relay.BaseUrl, RelayConfig.ClientPublicKey, RelayConfig.ClientSecretKey, traces: 5);

        run.Failed.ShouldBeEmpty(run.Output + relay.Output);
        run.Acked.Count.ShouldBe(30, run.Output); // 6 events a trace, all acknowledged by the relay
        await upstream.WaitUntilAsync(s => s.IngestionEvents.Count >= 5, TimeSpan.FromSeconds(45), "5 scores");

        upstream.IngestionEvents.ShouldAllBe(e => e.Type == "score-create");
        // Langfuse upserts an observation by its id, and the last write wins: an observation whose update came in a later
        // batch than its create is sent again, whole, once the update is merged in.
        await upstream.WaitUntilAsync(s => s.Spans.GroupBy(x => x.SpanId).Count() >= 10, TimeSpan.FromSeconds(45), "10 distinct spans");
        var spans = upstream.Spans.GroupBy(x => x.SpanId).Select(g => g.Last()).ToList();
        spans.Count.ShouldBe(10, upstream.Describe());
        spans.Select(s => s.TraceId).Distinct().Count().ShouldBe(5);
        spans.ShouldAllBe(s => s.TraceId.Length == 36, "the SDK's UUID trace ids, verbatim");
        var coordinators = spans.Where(s => s.Name == "coordinator").ToList();
        coordinators.Count.ShouldBe(5);
        coordinators.ShouldAllBe(s => s.ParentSpanId == null && s.Attr("langfuse.observation.output") == "\"done\"");
        coordinators.Select(s => s.Attr("langfuse.trace.name")).Order().ShouldBe(Enumerable.Range(0, 5).Select(i => $"relay-js-legacy-{i}"));
        var plans = spans.Where(s => s.Name == "plan").ToList();
        plans.ShouldAllBe(p => p.Type == "generation" && p.Attr("langfuse.observation.model.name") == "gpt-4o" && p.Attr("langfuse.observation.output") == "\"plan text\"");
        plans.ShouldAllBe(p => coordinators.Any(c => c.SpanId == p.ParentSpanId && c.TraceId == p.TraceId));
        var scoredTraces = upstream.IngestionEvents.Select(e => e.Body.GetProperty("traceId").GetString()).ToHashSet();
        scoredTraces.SetEquals(spans.Select(s => s.TraceId)).ShouldBeTrue("scores point at the translated traces");
        upstream.Violations.ShouldBeEmpty();
        File.Exists(Path.Combine(buffer.Path, "dead-letter.jsonl")).ShouldBeFalse(relay.Output);
    }
}
