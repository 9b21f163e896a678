using System.Net.Http.Json;
using System.Text;
using Langfuse.Agents;

namespace DistributedAgents;

/// <summary>The coordinator: one trace per query, the search delegated to the searcher process over HTTP.</summary>
internal static class CoordinatorApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        Console.OutputEncoding = Encoding.UTF8;
        string[] queries = args.Length > 0
            ? args
            : ["What is retrieval-augmented generation?", "How do vector databases index embeddings?"];
        var timeout = TimeSpan.FromSeconds(double.TryParse(Environment.GetEnvironmentVariable("DISTRIBUTED_AGENTS_TIMEOUT"), out var s) ? s : 10);

        var capture = new LangfuseCapture();
        var options = LangfuseOptions.FromEnvironment();
        options.ServiceName ??= "coordinator"; // OTEL_SERVICE_NAME wins
        options.Capture = capture;
        var tracer = new LangfuseTracer(options);

        // The propagation handler sends traceparent from the current observation; baggage (session, user) is opt-in.
        using var http = new HttpClient(new LangfusePropagationHandler(new SocketsHttpHandler()) { IncludeBaggage = true })
        {
            Timeout = timeout,
        };

        var searcher = await SearcherProcess.StartAsync(TimeSpan.FromSeconds(30));
        var sessionId = $"distributed-{Guid.NewGuid().ToString("N")[..8]}";
        try
        {
            foreach (var query in queries)
            {
                if (searcher.HasExited)
                {
                    await searcher.DisposeAsync();
                    searcher = await SearcherProcess.StartAsync(TimeSpan.FromSeconds(30));
                }

                await AnswerAsync(query);
            }
        }
        finally
        {
            await searcher.DisposeAsync();
        }

        Console.WriteLine();
        foreach (var trace in capture.Observations.GroupBy(o => o.TraceId))
        {
            Console.WriteLine($"trace {trace.Key}: {trace.Count()} observations in this process ({string.Join(", ", trace.Select(o => o.Name).Distinct())})");
        }

        var exporting = tracer.IsExporting;
        await tracer.DisposeAsync(); // flushes within LANGFUSE_SHUTDOWN_TIMEOUT
        var stats = tracer.GetStatistics();
        Console.WriteLine(exporting
            ? $"coordinator: exported {stats.Exported} items; the searcher exported its own."
            : "LANGFUSE_PUBLIC_KEY/SECRET_KEY not set: nothing was sent.");
        return 0;

        async Task AnswerAsync(string query)
        {
            using var root = tracer.StartTrace("distributed-query", sessionId, userId: "demo-user", input: query);
            root.Trace.AddTags("distributed", "example");
            root.Trace.Release ??= "distributed-agents@1.0.0"; // LANGFUSE_RELEASE (or a CI commit) fills it in when set
            root.Trace.Version = "coordinator-v1";
            await using var coordinator = tracer.StartAgent("coordinator", input: query);
            Console.WriteLine($"Q: {query}  (trace {root.TraceId})");

            SearchResponse? found = null;
            await using (var delegation = coordinator.StartDelegation("searcher", input: query))
            {
                try
                {
                    using var response = await http.PostAsJsonAsync(new Uri(searcher.Address, "/search"), new SearchRequest(query));
                    response.EnsureSuccessStatusCode();
                    found = await response.Content.ReadFromJsonAsync<SearchResponse>();
                    delegation.Output = new { hits = found?.Hits.Count ?? 0 };
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    // The searcher died or did not answer in time: the delegation is the failed step
                    // (failure.type=orchestration, failure.code=connection_failed or timeout).
                    var code = FailureCode.FromException(ex);
                    delegation.RecordFailure(FailureType.Orchestration, code, exception: ex);
                    Console.WriteLine($"   delegation to the searcher failed: {code} ({ex.GetType().Name})");
                    if (code == FailureCode.ConnectionFailed)
                    {
                        await searcher.WaitForExitAsync(TimeSpan.FromSeconds(5)); // a dead searcher is restarted for the next query
                    }
                }
            }

            using (var answer = tracer.StartGeneration("answer", model: "fake-writer-1", input: found?.Hits.Select(h => h.Title)))
            {
                // A model's pace: the first token after 50 ms, the rest 30 ms later.
                await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
                answer.MarkFirstToken();
                await Task.Delay(TimeSpan.FromMilliseconds(30), TimeProvider.System);
                var text = found is { Hits.Count: > 0 }
                    ? $"{query} — see \"{found.Hits[0].Title}\" and {found.Hits.Count - 1} more."
                    : $"{query} — no sources available right now.";
                answer.Output = text;
                answer.SetUsage(input: 120, output: 30);
                coordinator.Output = text;
                root.Output = text;
                Console.WriteLine($"A: {text}\n");
            }
        }
    }
}
