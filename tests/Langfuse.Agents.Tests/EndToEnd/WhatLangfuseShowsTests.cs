using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.EndToEnd;

/// <summary>
/// Both examples, run as child processes in both protocols, read through Langfuse's own ingestion (ported in
/// <see cref="LangfuseIngestionModel"/>): what Langfuse would show, not what our encoder wrote.
/// </summary>
public sealed class WhatLangfuseShowsTests : IAsyncLifetime
{
    private FakeLangfuseServer _otlp = null!;
    private FakeLangfuseServer _legacy = null!;

    public async Task InitializeAsync()
    {
        _otlp = await FakeLangfuseServer.StartAsync();
        _legacy = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
    }

    public async Task DisposeAsync()
    {
        await _otlp.DisposeAsync();
        await _legacy.DisposeAsync();
    }

    [Fact]
    public async Task ResearchAgents_InBothProtocols_ShowsUsageThatAddsUp_Exceptions_TheSameTraces_AndRealDurations()
    {
        var otlp = await RunAsync(_otlp, "otlp", "ResearchAgents");
        var legacy = await RunAsync(_legacy, "legacy", "ResearchAgents");

        foreach (var view in new[] { otlp, legacy })
        {
            AssertWhatEveryTraceShows(view);
            var generations = view.Observations.Where(o => o.Type == "GENERATION").ToList();
            generations.Count.ShouldBe(4);
            generations.ShouldAllBe(g => g.UsageDetails.ContainsKey("input_cached_tokens"), "the fake provider serves the system prompt from cache");
            generations.ShouldAllBe(g => g.CompletionStartTime > g.StartTime, "a visible first token");

            var failed = view.Observations.Where(o => o.Level == "ERROR").ToList();
            failed.Count.ShouldBe(2, "one timed-out fetch per query");
            foreach (var fetch in failed)
            {
                fetch.StatusMessage.ShouldNotBeNull().ShouldStartWith("TimeoutException: GET https://");
                fetch.Metadata["exception.type"].ShouldBe("System.TimeoutException");
                fetch.Metadata["exception.stacktrace"].ShouldContain("FakeWeb.FetchPageAsync");
            }
        }

        AssertSameTraces(otlp, legacy);
    }

    [Fact]
    public async Task DistributedAgents_InBothProtocols_ShowsTheCallersTrace_AndCalleeRowsCarryTheTraceAttributes()
    {
        var otlp = await RunAsync(_otlp, "otlp", "DistributedAgents");
        var legacy = await RunAsync(_legacy, "legacy", "DistributedAgents");

        foreach (var view in new[] { otlp, legacy })
        {
            AssertWhatEveryTraceShows(view);
        }

        AssertSameTraces(otlp, legacy);

        // Langfuse v4 observation rows carry trace attributes per row: the searcher's, sent by another process that set
        // none of them, show the caller's (propagated in baggage).
        var calleeRows = otlp.Observations.Where(o => o.ServiceName == "searcher").ToList();
        calleeRows.Count.ShouldBe(6, "agent, web_search and rank for each of two queries");
        foreach (var row in calleeRows)
        {
            row.TraceName.ShouldBe("distributed-query");
            row.TraceTags.ShouldBe(["distributed", "example"]);
            row.Release.ShouldBe("distributed-agents@1.0.0");
            row.Version.ShouldBe("coordinator-v1");
            row.SessionId.ShouldNotBeNullOrEmpty();
            row.UserId.ShouldBe("demo-user");
        }

        // Over the batch path the searcher creates no trace: the caller's trace-create alone sets its start.
        _legacy.IngestionEvents.Where(e => e.Type == "trace-create").Select(e => e.BodyId).Distinct().Count().ShouldBe(2);
    }

    /// <summary>Usage adds up, nothing points at a missing parent, each trace starts with its root and shows its input and output.</summary>
    private static void AssertWhatEveryTraceShows(IngestedView view)
    {
        view.Warnings.ShouldBeEmpty("Langfuse's ingestion would log nothing about our requests");
        view.Traces.Count.ShouldBe(2, "one trace per query");
        foreach (var generation in view.Observations.Where(o => o.UsageDetails.Count > 0))
        {
            generation.NonTotalTokens.ShouldBe(generation.TotalTokens, $"{generation}: usage buckets add up to the total");
        }

        var ids = view.Observations.Select(o => o.Id).ToHashSet();
        view.Observations.Where(o => o.ParentObservationId is not null).ShouldAllBe(o => ids.Contains(o.ParentObservationId!), "no missing parent");
        view.Observations.Where(o => o.Type != "EVENT").ShouldAllBe(o => o.LatencyMilliseconds > 0, "no 0 ms steps");
        foreach (var trace in view.Traces)
        {
            var rows = view.ObservationsOf(trace.Id);
            var root = rows.Single(o => o.ParentObservationId is null);
            trace.Timestamp.ShouldBe(root.StartTime, "the trace starts when its root (the caller's) started");
            trace.Timestamp.ShouldBe(rows.Min(o => o.StartTime));
            trace.Input.ShouldBe(root.Input);
            trace.Output.ShouldNotBeNull().ShouldBe(root.Output);
        }
    }

    /// <summary>The same queries give the same traces in both protocols: input, output and start (the root's).</summary>
    private static void AssertSameTraces(IngestedView otlp, IngestedView legacy)
    {
        static Dictionary<string, (string? Output, string? Name)> ByInput(IngestedView view) =>
            view.Traces.ToDictionary(t => t.Input!, t => (t.Output, t.Name));

        ByInput(otlp).OrderBy(kv => kv.Key, StringComparer.Ordinal).ShouldBe(ByInput(legacy).OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    private static async Task<IngestedView> RunAsync(FakeLangfuseServer server, string protocol, string example)
    {
        var run = await ChildProcess.RunAsync(
            ChildProcess.BuiltAssembly(Path.Combine("examples", example), example + ".dll"),
            new Dictionary<string, string>
            {
                ["LANGFUSE_PUBLIC_KEY"] = server.PublicKey,
                ["LANGFUSE_SECRET_KEY"] = server.SecretKey,
                ["LANGFUSE_BASE_URL"] = server.BaseUrl.ToString(),
                ["LANGFUSE_INGESTION_PROTOCOL"] = protocol,
                ["LANGFUSE_SHUTDOWN_TIMEOUT"] = ChildProcess.DeliveryShutdownBudget, // everything must arrive, whatever the load
                ["DISTRIBUTED_AGENTS_TIMEOUT"] = ChildProcess.DeliveryShutdownBudget, // no delegation times out under load
            });
        run.ExitCode.ShouldBe(0, run.Output);
        server.Violations.ShouldBeEmpty();
        server.Requests.ShouldAllBe(r => r.StatusCode == 200 || r.StatusCode == 207, server.Describe());
        return protocol == "otlp" ? LangfuseIngestionModel.FromOtlp(server.Spans) : LangfuseIngestionModel.FromBatch(server.IngestionEvents);
    }
}
