using System.Text.Json;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.EndToEnd;

/// <summary>
/// Runs examples/DistributedAgents as a real child process (which starts its searcher as a grandchild process),
/// configured only by environment variables, against the fake Langfuse.
/// </summary>
public sealed class DistributedAgentsExampleTests : IAsyncLifetime
{
    private FakeLangfuseServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeLangfuseServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Example_SendsOneTracePerQuery_SpanningBothServices_WithNoMissingParent()
    {
        var run = await RunExampleAsync([]);

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("searcher stopped");
        run.Output.ShouldNotContain(_server.SecretKey);
        _server.Violations.ShouldBeEmpty();

        var traces = _server.Spans.GroupBy(s => s.TraceId).ToList();
        traces.Count.ShouldBe(2, Describe()); // two default queries
        foreach (var trace in traces)
        {
            AssertComplete(trace);
            trace.Select(s => s.ResourceAttr("service.name")).Distinct().Order().ShouldBe(["coordinator", "searcher"]);
            var root = trace.Single(s => s.IsRoot);
            root.Attr("langfuse.trace.name").ShouldBe("distributed-query");

            // The searcher's agent is a child of the coordinator's delegation span, and gets session and user by baggage.
            var delegation = trace.Single(s => s.ResourceAttr("service.name") == "coordinator" && s.Name == "searcher");
            Metadata(delegation, "delegation.callee").ShouldBe("searcher");
            var remoteAgent = trace.Single(s => s.ResourceAttr("service.name") == "searcher" && s.Type == "agent");
            remoteAgent.ParentSpanId.ShouldBe(delegation.SpanId);
            remoteAgent.Attr("langfuse.session.id").ShouldBe(root.Attr("langfuse.session.id"));
            remoteAgent.Attr("langfuse.user.id").ShouldBe("demo-user");
            trace.ShouldContain(s => s.ResourceAttr("service.name") == "searcher" && s.Type == "tool" && s.ParentSpanId == remoteAgent.SpanId);
            trace.ShouldNotContain(s => s.Attr("langfuse.observation.level") == "ERROR");
        }
    }

    [Fact]
    public async Task Example_WhenTheSearcherIsKilledMidRequest_ShowsTheDelegationAsAnOrchestrationConnectionFailure()
    {
        var run = await RunExampleAsync(
            new() { ["DISTRIBUTED_AGENTS_CRASH_ON"] = "crash now" },
            "crash now",
            "after the crash");

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("searcher crashing on \"crash now\"");
        run.Output.ShouldContain("delegation to the searcher failed: connection_failed");
        _server.Violations.ShouldBeEmpty();

        var traces = _server.Spans.GroupBy(s => s.TraceId).ToDictionary(t => t.Single(s => s.IsRoot).Attr("langfuse.observation.input")!, t => t.ToList());
        traces.Count.ShouldBe(2, Describe());
        foreach (var trace in traces.Values)
        {
            AssertComplete(trace);
        }

        // The killed searcher sent nothing for its query; the coordinator's trace shows why.
        var crashed = traces["crash now"];
        var delegation = crashed.Single(s => s.Name == "searcher" && s.Type == "agent");
        delegation.ResourceAttr("service.name").ShouldBe("coordinator");
        delegation.Attr("langfuse.observation.level").ShouldBe("ERROR");
        delegation.Attr("langfuse.observation.status_message").ShouldNotBeNull().ShouldStartWith("orchestration/connection_failed");
        Metadata(delegation, "failure.type").ShouldBe("orchestration");
        Metadata(delegation, "failure.code").ShouldBe("connection_failed");

        // The coordinator started a new searcher, and the next query spans both services again.
        traces["after the crash"].Select(s => s.ResourceAttr("service.name")).Distinct().Order().ShouldBe(["coordinator", "searcher"]);
        run.Output.Split('\n').Count(l => l.StartsWith("searcher started: pid", StringComparison.Ordinal)).ShouldBe(2, run.Output);
    }

    [Fact]
    public async Task Example_WhenTheSearcherDoesNotAnswerInTime_ShowsTheDelegationAsAnOrchestrationTimeout()
    {
        var run = await RunExampleAsync(
            // Long enough for a loaded machine's searcher to reach its handler (and start its agent) before the coordinator
            // gives up: with 1 s, at load 45, it gave up first and the searcher's agent was never recorded.
            new() { ["DISTRIBUTED_AGENTS_HANG_ON"] = "never answered", ["DISTRIBUTED_AGENTS_TIMEOUT"] = "30" },
            "never answered");

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("delegation to the searcher failed: timeout");

        var trace = _server.Spans.GroupBy(s => s.TraceId).ShouldHaveSingleItem(Describe()).ToList();
        AssertComplete(trace);
        var delegation = trace.Single(s => s.ResourceAttr("service.name") == "coordinator" && s.Name == "searcher");
        delegation.Attr("langfuse.observation.level").ShouldBe("ERROR");
        Metadata(delegation, "failure.type").ShouldBe("orchestration");
        Metadata(delegation, "failure.code").ShouldBe("timeout");

        // The searcher saw its caller give up: its agent ended as cancelled, inside the same trace.
        var remoteAgent = trace.Single(s => s.ResourceAttr("service.name") == "searcher" && s.Type == "agent");
        remoteAgent.ParentSpanId.ShouldBe(delegation.SpanId);
        remoteAgent.Attr("langfuse.observation.level").ShouldBe("ERROR");
    }

    private static void AssertComplete(IEnumerable<ReceivedSpan> trace)
    {
        var spans = trace.ToList();
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        spans.Where(s => s.ParentSpanId is not null).ShouldAllBe(s => ids.Contains(s.ParentSpanId!), "no observation whose parent is missing");
        spans.Count(s => s.IsRoot).ShouldBe(1);
    }

    private static string? Metadata(ReceivedSpan span, string key) =>
        span.AttrJson("langfuse.observation.metadata") is { } json && json.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private string Describe() => string.Join('\n', _server.Spans.Select(s => $"{s} service={s.ResourceAttr("service.name")}"));

    private Task<ChildProcess.Run> RunExampleAsync(Dictionary<string, string> extra, params string[] queries)
    {
        var environment = new Dictionary<string, string>(extra)
        {
            ["LANGFUSE_PUBLIC_KEY"] = _server.PublicKey,
            ["LANGFUSE_SECRET_KEY"] = _server.SecretKey,
            ["LANGFUSE_BASE_URL"] = _server.BaseUrl.ToString(),
            ["LANGFUSE_SHUTDOWN_TIMEOUT"] = ChildProcess.DeliveryShutdownBudget, // the searcher inherits it
        };

        // The coordinator's per-delegation timeout (default 10 s) is real time: at load 45 a healthy delegation to a
        // cold searcher outlived it, and the run showed a timeout (an ERROR delegation) instead of the searcher's
        // answer, or instead of the connection failure the crash test waits for. Only the timeout test chooses its own.
        environment.TryAdd("DISTRIBUTED_AGENTS_TIMEOUT", ChildProcess.DeliveryShutdownBudget);
        return ChildProcess.RunAsync(
            ChildProcess.BuiltAssembly(Path.Combine("examples", "DistributedAgents"), "DistributedAgents.dll"),
            environment,
            arguments: queries);
    }
}
