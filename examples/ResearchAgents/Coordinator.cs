using Langfuse.Agents;

namespace ResearchAgents;

/// <summary>The outcome of one research query.</summary>
internal sealed record ResearchResult(string Answer, string Route, Findings? Findings);

/// <summary>
/// The coordinator agent: plans with a model call, decides where to route the query (recorded as an event),
/// delegates to the searcher and the summarizer, and returns the answer. Everything it starts while its agent
/// observation is open nests under it, without passing parents around.
/// </summary>
internal sealed class Coordinator(LangfuseTracer tracer, TracedLlm llm, Searcher searcher, Summarizer summarizer)
{
    private static readonly PromptRef PlannerPrompt = new("research-planner", 3);
    private static readonly string[] Routes = ["research", "answer_directly", "clarify"];

    public async Task<ResearchResult> RunAsync(string query, CancellationToken cancellationToken = default)
    {
        await using var agent = tracer.StartAgent("coordinator", input: query);
        agent.SetMetadata("routes", Routes);

        var plan = await PlanAsync(query, cancellationToken);
        var route = Decide(query, plan);

        ResearchResult result;
        if (route == "research")
        {
            var findings = await searcher.SearchAsync(plan.SearchQueries, cancellationToken);
            var answer = await summarizer.SummarizeAsync(query, findings, cancellationToken);
            result = new ResearchResult(answer, route, findings);
        }
        else
        {
            result = new ResearchResult($"({route}) {query}", route, null);
        }

        agent.Output = result.Answer;
        return result;
    }

    private async Task<Plan> PlanAsync(string query, CancellationToken cancellationToken)
    {
        var request = new ChatRequest(
            Model: "gpt-4o-mini",
            Messages:
            [
                new("system", "You are a research planner. Reply with 'search:' lines, one 'route:' line and one 'reason:' line."),
                new("user", query),
            ],
            Temperature: 0.2,
            MaxTokens: 256);

        var text = await llm.CompleteAsync("plan", request, PlannerPrompt, cancellationToken);
        return Plan.Parse(text);
    }

    /// <summary>Picks a route and records the decision as an event: a point in time with no duration.</summary>
    private string Decide(string query, Plan plan)
    {
        var route = plan.SearchQueries.Count > 0 && Routes.Contains(plan.Route) ? plan.Route : "answer_directly";
        var confidence = plan.SearchQueries.Count >= 2 ? 0.86 : 0.55;
        tracer.RecordEvent(
            "route",
            input: new { query, candidates = Routes },
            output: new { route, reason = plan.Reason, confidence });
        return route;
    }

    private sealed record Plan(IReadOnlyList<string> SearchQueries, string Route, string Reason)
    {
        public static Plan Parse(string text)
        {
            var lines = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            string Value(string line) => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            return new Plan(
                [.. lines.Where(l => l.StartsWith("search:", StringComparison.Ordinal)).Select(Value)],
                lines.Where(l => l.StartsWith("route:", StringComparison.Ordinal)).Select(Value).FirstOrDefault() ?? "answer_directly",
                lines.Where(l => l.StartsWith("reason:", StringComparison.Ordinal)).Select(Value).FirstOrDefault() ?? "no reason given");
        }
    }
}
