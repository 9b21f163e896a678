using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.EndToEnd;

/// <summary>Runs examples/ResearchAgents as a real child process, configured only by environment variables.</summary>
public sealed class ResearchAgentsExampleTests : IAsyncLifetime
{
    private FakeLangfuseServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeLangfuseServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Example_AgainstAV4LikeServer_SendsOneCompleteTracePerQuery()
    {
        var run = await RunExampleAsync(new()
        {
            ["LANGFUSE_PUBLIC_KEY"] = _server.PublicKey,
            ["LANGFUSE_SECRET_KEY"] = _server.SecretKey,
            ["LANGFUSE_BASE_URL"] = _server.BaseUrl.ToString(),
            ["LANGFUSE_SHUTDOWN_TIMEOUT"] = ChildProcess.DeliveryShutdownBudget,
        });

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldNotContain(_server.SecretKey);
        _server.Violations.ShouldBeEmpty();
        _server.Requests.ShouldAllBe(r => r.StatusCode == 200 || r.StatusCode == 207);

        var spans = _server.Spans;
        var traces = spans.GroupBy(s => s.TraceId).ToList();
        traces.Count.ShouldBe(2); // two default queries
        foreach (var trace in traces)
        {
            var ids = trace.Select(s => s.SpanId).ToHashSet();
            trace.Where(s => s.ParentSpanId is not null).ShouldAllBe(s => ids.Contains(s.ParentSpanId!), "no span whose parent is missing");
            var root = trace.Single(s => s.ParentSpanId is null);
            root.Attr("langfuse.trace.name").ShouldBe("research-query");
            root.Attr("langfuse.session.id").ShouldNotBeNullOrEmpty();
            root.ResourceAttr("service.name").ShouldBe("ResearchAgents");

            trace.ShouldContain(s => s.Type == "agent" && s.Name == "coordinator");
            trace.ShouldContain(s => s.Type == "agent" && s.Name == "searcher");
            trace.ShouldContain(s => s.Type == "event");
            var generations = trace.Where(s => s.Type == "generation").ToList();
            generations.Count.ShouldBeGreaterThanOrEqualTo(2);
            generations.ShouldAllBe(g => g.Attr("langfuse.observation.model.name") != null
                && g.Attr("langfuse.observation.usage_details") != null
                && g.Attr("langfuse.observation.cost_details") != null
                && g.Attr("langfuse.observation.completion_start_time") != null);
            var tools = trace.Where(s => s.Type == "tool").ToList();
            tools.ShouldAllBe(t => t.Attr("langfuse.observation.input") != null);
            var failed = tools.Single(t => t.Attr("langfuse.observation.level") == "ERROR");
            failed.Attr("langfuse.observation.status_message").ShouldNotBeNull().ShouldContain("TimeoutException");
            tools.Count(t => t.Name == failed.Name).ShouldBe(2, "the failed attempt and its retry are separate observations");
        }

        var scores = _server.IngestionEvents.Where(e => e.Type == "score-create").ToList();
        scores.Count.ShouldBe(4);
        scores.ShouldAllBe(s => s.BodyId != null && traces.Any(t => t.Key == s.TraceId));
        scores.ShouldContain(s => s.Name == "quality");
    }

    [Fact]
    public async Task Example_WithLangfuseUnreachable_StillExitsZeroWithinItsShutdownBudget()
    {
        var run = await RunExampleAsync(new()
        {
            ["LANGFUSE_PUBLIC_KEY"] = "pk-lf-unreachable",
            ["LANGFUSE_SECRET_KEY"] = "sk-lf-unreachable",
            ["LANGFUSE_BASE_URL"] = "http://127.0.0.1:1",
        });

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("exported 0");
        run.Output.ShouldNotContain("sk-lf-unreachable");

        // A liveness bound, not a speed test: the default shutdown budget is 5 s.
        run.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Example_RunTwiceDuringAnOutage_ThenAfterDamageToTheBuffer_DeliversAllThreeRunsTraces()
    {
        var buffer = Directory.CreateTempSubdirectory("langfuse-example-buffer-");
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["LANGFUSE_PUBLIC_KEY"] = _server.PublicKey,
                ["LANGFUSE_SECRET_KEY"] = _server.SecretKey,
                ["LANGFUSE_BASE_URL"] = _server.BaseUrl.ToString(),
                ["LANGFUSE_BUFFER_DIR"] = buffer.FullName,
            };

            // Two runs while Langfuse answers 503: each ends promptly and leaves its data on disk, private to the user.
            _server.FailAll(503);
            for (var run = 0; run < 2; run++)
            {
                var outage = await RunExampleAsync(environment);
                outage.ExitCode.ShouldBe(0, outage.Output);
                outage.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20)); // liveness bound, not a speed test
            }

            _server.Spans.ShouldBeEmpty();
            var projectDir = buffer.GetDirectories().Single(); // one sub-directory per host and key
            var segments = projectDir.GetFiles("*.lfq");
            segments.Length.ShouldBeGreaterThanOrEqualTo(2);
            if (!OperatingSystem.IsWindows())
            {
                (File.GetUnixFileMode(projectDir.FullName) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute))
                    .ShouldBe(UnixFileMode.None);
                foreach (var segment in segments)
                {
                    (File.GetUnixFileMode(segment.FullName) & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)).ShouldBe(UnixFileMode.None, segment.Name);
                }
            }

            // Damage: a garbage file, an empty file, and a copy of a segment torn inside its first record (a copy, so
            // no earlier run loses data; torn early, so none of its records is whole and nothing is sent twice).
            File.WriteAllText(Path.Combine(projectDir.FullName, "garbage.lfq"), "this is not a segment");
            File.WriteAllBytes(Path.Combine(projectDir.FullName, "00000000000000000001-empty.lfq"), []);
            var victim = segments.OrderBy(f => f.Name).Last();
            var copy = Path.Combine(projectDir.FullName, "0" + victim.Name);
            File.Copy(victim.FullName, copy);
            using (var truncate = new FileStream(copy, FileMode.Open))
            {
                truncate.SetLength(Math.Min(64, truncate.Length / 2));
            }

            // A third run with Langfuse healthy delivers its own traces and both earlier runs' traces, and exits 0.
            _server.Heal();
            environment["LANGFUSE_SHUTDOWN_TIMEOUT"] = ChildProcess.DeliveryShutdownBudget; // all three runs' data, whatever the load
            var healthy = await RunExampleAsync(environment);
            healthy.ExitCode.ShouldBe(0, healthy.Output);
            var traces = _server.Spans.GroupBy(s => s.TraceId).ToList();
            traces.Count.ShouldBe(6, "two queries per run, three runs");
            foreach (var trace in traces)
            {
                var ids = trace.Select(s => s.SpanId).ToHashSet();
                trace.Where(s => s.ParentSpanId is not null).ShouldAllBe(s => ids.Contains(s.ParentSpanId!));
            }

            _server.IngestionEvents.Where(e => e.Type == "score-create").Select(e => e.BodyId).Distinct().Count().ShouldBe(12);
            _server.Spans.Select(s => s.SpanId).Distinct().Count().ShouldBe(_server.Spans.Count, "no span delivered twice");
            _server.Violations.ShouldBeEmpty();
        }
        finally
        {
            buffer.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Example_WithoutKeys_PrintsTheTreeAndSendsNothing()
    {
        var run = await RunExampleAsync([]);
        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("coordinator [agent]");
        run.Output.ShouldContain("nothing was sent");
        _server.Requests.ShouldBeEmpty();
    }

    private static Task<ChildProcess.Run> RunExampleAsync(Dictionary<string, string> environment) =>
        ChildProcess.RunAsync(ChildProcess.BuiltAssembly(Path.Combine("examples", "ResearchAgents"), "ResearchAgents.dll"), environment);
}
