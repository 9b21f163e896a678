using Langfuse.Agents;

namespace ResearchAgents;

/// <summary>The summarizer agent: writes the final answer from the searcher's findings with one model call.</summary>
internal sealed class Summarizer(LangfuseTracer tracer, TracedLlm llm)
{
    private static readonly PromptRef Prompt = new("research-summarizer", 2);

    public async Task<string> SummarizeAsync(string question, Findings findings, CancellationToken cancellationToken = default)
    {
        var caller = LangfuseTracer.CurrentObservation?.Name ?? "user";
        await using var agent = tracer.StartAgent("summarizer", input: new { question, sources = findings.Results.Count });
        agent.SetMetadata("caller", caller).SetMetadata("callee", "summarizer");

        var sources = string.Join('\n', findings.Results.Select(r => $"- {r.Title} ({r.Url})"));
        var request = new ChatRequest(
            Model: "gpt-4o",
            Messages:
            [
                new("system", "You are a careful research writer. Answer in three sentences and cite sources as [n]."),
                new("user", $"Question: {question}\nSources:\n{sources}\nBest page: {findings.TopPage?.Text}"),
            ],
            Temperature: 0.3,
            MaxTokens: 400);

        var answer = await llm.CompleteAsync("write-answer", request, Prompt, cancellationToken);
        agent.Output = answer;
        return answer;
    }
}
