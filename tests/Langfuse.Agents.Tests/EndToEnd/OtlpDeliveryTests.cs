using System.Text.Json;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.EndToEnd;

public sealed class OtlpDeliveryTests : IAsyncLifetime
{
    private FakeLangfuseServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeLangfuseServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AgentRun_ArrivesAsOtlpProtobuf_WithCompleteFieldsAndNoMissingParents()
    {
        string traceId;
        await using (var tracer = CreateTracer())
        {
            traceId = await RunAgentAsync(tracer);
            (await tracer.FlushAsync(LoadedMachine.HangGuard)).Completed.ShouldBeTrue();
            var stats = tracer.GetStatistics();
            stats.Exported.ShouldBe(stats.Enqueued);
            stats.DroppedTotal.ShouldBe(0);
        }

        var spans = _server.Spans;
        spans.Count.ShouldBe(7);
        spans.ShouldAllBe(s => s.TraceId == traceId);
        _server.Violations.ShouldBeEmpty();

        // Every parent is present: one trace, one root.
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        spans.Where(s => s.ParentSpanId is not null).ShouldAllBe(s => ids.Contains(s.ParentSpanId!));
        var root = spans.Single(s => s.ParentSpanId is null);
        root.Name.ShouldBe("research-query");
        root.Attr("langfuse.trace.name").ShouldBe("research-query");
        root.Attr("langfuse.session.id").ShouldBe("session-1");
        root.Attr("langfuse.user.id").ShouldBe("user-1");
        root.Attr("langfuse.observation.input").ShouldBe("What is new in quantum computing?"); // Langfuse mirrors the root's input on the trace
        root.Attr("langfuse.trace.output").ShouldBe("the final answer");
        root.Attr("langfuse.environment").ShouldBe("staging");
        root.Attr("langfuse.release").ShouldBe("v1.2.3");
        root.Attributes["langfuse.trace.tags"].ShouldBe(new object?[] { "research", "demo" });
        root.AttrJson("langfuse.trace.metadata")!.Value.GetProperty("tenant").GetString().ShouldBe("acme");

        // Trace-level attributes ride on every span, so a trace assembled from several services still gets them.
        spans.ShouldAllBe(s => s.Attr("langfuse.session.id") == "session-1" && s.Attr("langfuse.user.id") == "user-1");
        spans.Where(s => s != root).ShouldAllBe(s => s.Attr("langfuse.trace.output") == null);

        var plan = spans.Single(s => s.Name == "plan");
        plan.Type.ShouldBe("generation");
        plan.Attr("langfuse.observation.model.name").ShouldBe("gpt-4o");
        plan.AttrJson("langfuse.observation.model.parameters")!.Value.GetProperty("temperature").GetDouble().ShouldBe(0.2);
        var usage = plan.AttrJson("langfuse.observation.usage_details")!.Value;
        usage.GetProperty("input").GetInt64().ShouldBe(100, "the 20 cached prompt tokens have their own bucket");
        usage.GetProperty("input_cached_tokens").GetInt64().ShouldBe(20);
        usage.GetProperty("output").GetInt64().ShouldBe(45);
        usage.GetProperty("total").GetInt64().ShouldBe(165);
        plan.AttrJson("langfuse.observation.cost_details")!.Value.GetProperty("total").GetDecimal().ShouldBe(0.0021m);
        DateTimeOffset.Parse(plan.Attr("langfuse.observation.completion_start_time")!, System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBeGreaterThanOrEqualTo(plan.StartTime.AddMilliseconds(-1));
        plan.Attr("langfuse.observation.prompt.name").ShouldBe("planner");
        plan.Attributes["langfuse.observation.prompt.version"].ShouldBe(3L);
        plan.AttrJson("langfuse.observation.input")!.Value.ValueKind.ShouldBe(JsonValueKind.Array);

        var searcher = spans.Single(s => s.Name == "searcher");
        searcher.Type.ShouldBe("agent");
        searcher.ParentSpanId.ShouldBe(spans.Single(s => s.Name == "coordinator").SpanId);

        var attempts = spans.Where(s => s.Name == "web_search").OrderBy(s => s.StartTimeUnixNano).ToList();
        attempts.Count.ShouldBe(2);
        attempts.ShouldAllBe(s => s.Type == "tool" && s.ParentSpanId == searcher.SpanId);
        attempts[0].Attr("langfuse.observation.level").ShouldBe("ERROR");
        attempts[0].Attr("langfuse.observation.status_message").ShouldBe("TimeoutException: search timed out");
        attempts[0].StatusCode.ShouldBe(2);
        attempts[0].Events.Single().Name.ShouldBe("exception");
        attempts[0].AttrJson("langfuse.observation.metadata")!.Value.GetProperty("attempt").GetInt32().ShouldBe(1);
        attempts[1].Attr("langfuse.observation.level").ShouldBeNull();
        attempts[1].AttrJson("langfuse.observation.input")!.Value.GetProperty("query").GetString().ShouldBe("quantum");
        attempts[1].Attr("langfuse.observation.output").ShouldBe("3 results");

        var route = spans.Single(s => s.Name == "route");
        route.Type.ShouldBe("event");
        route.EndTimeUnixNano.ShouldBe(route.StartTimeUnixNano);

        // Resource and headers.
        root.ResourceAttr("service.name").ShouldBe("research-tests");
        root.ResourceAttr("service.instance.id").ShouldNotBeNullOrEmpty();
        var request = _server.Requests.First(r => r.Path == FakeLangfuseServer.OtlpPath);
        request.ContentType.ShouldNotBeNull().ShouldContain("application/x-protobuf");
        request.Header("x-langfuse-ingestion-version").ShouldBe("4");
        request.Header("x-langfuse-sdk-name").ShouldBe("langfuse-agents-dotnet");
        request.Header("x-langfuse-sdk-version").ShouldBe(LangfuseTracer.SdkVersion);

        // The score travels as a valid score-create with a body id, on the trace.
        var score = _server.IngestionEvents.Single(e => e.Type == "score-create");
        score.BodyId.ShouldNotBeNullOrEmpty();
        score.TraceId.ShouldBe(traceId);
        score.Name.ShouldBe("quality");
        score.Body.GetProperty("value").GetDouble().ShouldBe(0.9);
        score.Body.GetProperty("dataType").GetString().ShouldBe("NUMERIC");
    }

    [Fact]
    public async Task LegacyProtocol_AgainstV3Server_EveryEventIsAccepted()
    {
        _server.Version = FakeLangfuseVersion.V3;
        string traceId;
        await using (var tracer = CreateTracer(o => o.IngestionProtocol = IngestionProtocol.Legacy))
        {
            traceId = await RunAgentAsync(tracer);
            (await tracer.FlushAsync(LoadedMachine.HangGuard)).Completed.ShouldBeTrue();
            tracer.GetStatistics().Exported.ShouldBe(8); // 7 observations and a score
        }

        _server.Requests.ShouldNotContain(r => r.Path == FakeLangfuseServer.OtlpPath);
        _server.Requests.ShouldAllBe(r => r.StatusCode == 207);
        _server.Violations.ShouldBeEmpty();
        var events = _server.IngestionEvents;
        events.Count(e => e.Type == "trace-create").ShouldBeGreaterThanOrEqualTo(1);
        events.Where(e => e.Type != "score-create").ShouldAllBe(e => e.BodyId != null && (e.Type == "trace-create" || e.TraceId == traceId));
        events.Select(e => e.Type).ShouldContain("generation-create");
        events.Select(e => e.Type).ShouldContain("agent-create");
        events.Select(e => e.Type).ShouldContain("tool-create");
        events.Select(e => e.Type).ShouldContain("event-create");
        var failed = events.Where(e => e.Type == "tool-create").Single(e => e.Field("level") == "ERROR");
        failed.Field("statusMessage").ShouldBe("TimeoutException: search timed out");
    }

    [Fact]
    public async Task AddLangfuse_ResolvesOneTracer_AndTheHostFlushesItOnStop()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddLangfuse(ConfigureForServer);
        builder.Services.AddLangfuse(); // a second call is harmless
        using var host = builder.Build();
        await host.StartAsync();
        var tracer = host.Services.GetRequiredService<LangfuseTracer>();
        host.Services.GetRequiredService<LangfuseTracer>().ShouldBeSameAs(tracer);
        host.Services.GetServices<IHostedService>().Count().ShouldBe(1);
        tracer.IsExporting.ShouldBeTrue();
        LangfuseTracer.Default.ShouldBeSameAs(tracer, "[Observe] and LangfuseTracer.Default use the host's tracer");

        using (tracer.StartTrace("from-di"))
        {
        }

        await host.StopAsync();
        _server.Spans.Single().Name.ShouldBe("from-di");
    }

    private LangfuseTracer CreateTracer(Action<LangfuseOptions>? configure = null)
    {
        var options = new LangfuseOptions();
        ConfigureForServer(options);
        configure?.Invoke(options);
        return new LangfuseTracer(options, NullLoggerFactory.Instance);
    }

    private void ConfigureForServer(LangfuseOptions options)
    {
        options.PublicKey = _server.PublicKey;
        options.SecretKey = _server.SecretKey;
        options.BaseUrl = _server.BaseUrl;
        options.ServiceName = "research-tests";
        options.Environment = "staging";
        options.Release = "v1.2.3";
        options.FlushInterval = TimeSpan.FromMinutes(10); // only explicit flushes send, so the test controls batching
        options.BufferEnabled = false; // nothing fails here; the disk has tests of its own
    }

    /// <summary>A small multi-agent run: coordinator, plan, routing decision, searcher with a failed and a retried tool call, score.</summary>
    private static async Task<string> RunAgentAsync(LangfuseTracer tracer)
    {
        using var root = tracer.StartTrace("research-query", sessionId: "session-1", userId: "user-1", input: "What is new in quantum computing?");
        root.Trace.AddTags("research", "demo").SetMetadata("tenant", "acme");
        await using (var coordinator = tracer.StartAgent("coordinator"))
        {
            using (var plan = tracer.StartGeneration("plan", "gpt-4o", new[] { new { role = "user", content = "plan it" } }))
            {
                plan.SetModelParameter("temperature", 0.2).SetUsage(120, 45, 165).SetUsage("cached_input", 20).SetCost(total: 0.0021m).SetPrompt("planner", 3);
                await Task.Yield();
                plan.MarkFirstToken();
                plan.Output = "search, then summarize";
            }

            tracer.RecordEvent("route", input: new { candidates = new[] { "search", "answer" } }, output: "search");
            await using var searcher = tracer.StartAgent("searcher", input: "quantum");
            using (var attempt = tracer.StartTool("web_search", new { query = "quantum" }))
            {
                attempt.SetMetadata("attempt", 1).RecordException(new TimeoutException("search timed out"));
            }

            using (var retry = tracer.StartTool("web_search", new { query = "quantum" }))
            {
                retry.SetMetadata("attempt", 2);
                retry.Output = "3 results";
            }
        }

        root.ScoreTrace("quality", 0.9, "grounded");
        root.Output = "answer";
        root.Trace.Output = "the final answer";
        return root.TraceId;
    }
}
