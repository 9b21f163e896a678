// A multi-agent research run, traced into Langfuse.
//
//   dotnet run --project examples/ResearchAgents                      (offline: prints the trace tree, sends nothing)
//   LANGFUSE_PUBLIC_KEY=pk-lf-... LANGFUSE_SECRET_KEY=sk-lf-... \
//   LANGFUSE_BASE_URL=https://cloud.langfuse.com dotnet run --project examples/ResearchAgents -- "your question"
//
// Configuration comes only from environment variables (LANGFUSE_*). The model and the web are deterministic fakes
// with realistic latencies (tens of milliseconds, a streamed answer with a visible first token), so the run is offline
// and takes about a second; the tracing code is what you would write around real clients.

using System.Text;
using Langfuse.Agents;
using ResearchAgents;

Console.OutputEncoding = Encoding.UTF8;

string[] queries = args.Length > 0
    ? args
    : ["What is retrieval-augmented generation?", "How do vector databases index embeddings?"];

// 1. One tracer per process. The capture keeps a copy of what was traced, to print the tree at the end.
var capture = new LangfuseCapture();
var options = LangfuseOptions.FromEnvironment();
options.Capture = capture;
var tracer = new LangfuseTracer(options);

// 2. The agents. They share the tracer and never pass parents around: nesting follows the async flow.
var clock = TimeProvider.System;
var llm = new TracedLlm(tracer, new FakeLlm(clock));
var coordinator = new Coordinator(tracer, llm, new Searcher(tracer, new FakeWeb(clock), clock), new Summarizer(tracer, llm));

// 3. One trace per query; the run's traces share a session so Langfuse groups them.
var sessionId = $"demo-{Guid.NewGuid().ToString("N")[..8]}";
for (var i = 0; i < queries.Length; i++)
{
    await ResearchAsync(queries[i], i);
}

// 4. Show what was traced, then send it: DisposeAsync flushes within LANGFUSE_SHUTDOWN_TIMEOUT (default 5 s),
//    never throws, and drops (and counts) what cannot be delivered in time.
Console.WriteLine();
TraceTreePrinter.Print(capture, Console.Out);
var exporting = tracer.IsExporting;
await tracer.DisposeAsync();
PrintDelivery(tracer.GetStatistics(), exporting);
return 0;

async Task ResearchAsync(string query, int index)
{
    using var root = tracer.StartTrace("research-query", sessionId, userId: "demo-user", input: query);
    root.Trace.AddTags("research", "multi-agent", "example");
    root.Trace.SetMetadata("query_index", index).SetMetadata("agents", new[] { "coordinator", "searcher", "summarizer" });
    root.Trace.Release ??= "research-agents@1.0.0"; // LANGFUSE_RELEASE (or a CI commit) fills it in when set
    root.Trace.Version = "coordinator-v3";

    try
    {
        var result = await coordinator.RunAsync(query);
        root.Output = result.Answer;
        Console.WriteLine($"Q: {query}\nA: {result.Answer}\n");

        // Scores belong to the trace: how good was the answer, and did every tool end up working?
        var findings = result.Findings;
        var cited = findings?.Results.Count(r => result.Answer.Contains(r.Title, StringComparison.Ordinal)) ?? 0;
        root.ScoreTrace("quality", cited >= 2 ? 0.9 : 0.4, comment: $"cites {cited} of {findings?.Results.Count ?? 0} sources");
        root.ScoreTrace("tool_succeeded", findings?.AllToolsSucceeded ?? false,
            comment: findings is { FailedAttempts: > 0 } ? $"after {findings.FailedAttempts} retried attempt(s)" : null);
    }
    catch (Exception ex)
    {
        // Your agent failing is data too: the root shows as ERROR, and the run goes on with the next query.
        root.RecordException(ex);
        Console.Error.WriteLine($"Query failed: {ex.Message}");
    }
}

void PrintDelivery(LangfuseStatistics stats, bool wasExporting)
{
    var captured = $"{stats.Ended} observations and {capture.Scores.Count} scores traced";
    if (string.IsNullOrWhiteSpace(options.PublicKey) || string.IsNullOrWhiteSpace(options.SecretKey))
    {
        Console.WriteLine($"{captured}. LANGFUSE_PUBLIC_KEY/SECRET_KEY not set: nothing was sent.");
    }
    else if (!wasExporting)
    {
        Console.WriteLine($"{captured}. Tracing is off (LANGFUSE_TRACING_ENABLED=false or invalid settings, see above): nothing was sent.");
    }
    else
    {
        var url = options.BaseUrl;
        var dropped = string.Join(", ", stats.Dropped.Where(d => d.Value > 0).Select(d => $"{d.Key} {d.Value}"));
        Console.WriteLine(
            $"{captured}. Sent to {url.Scheme}://{url.Authority}{url.AbsolutePath.TrimEnd('/')}: " +
            $"exported {stats.Exported}, dropped {stats.DroppedTotal}{(dropped.Length > 0 ? $" ({dropped})" : "")}, " +
            $"{stats.Requests} requests, {stats.Retries} retries.");
    }
}
