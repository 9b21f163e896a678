using System.Text;
using Langfuse.Agents;

namespace ResearchAgents;

/// <summary>A Langfuse prompt (managed in Langfuse) that a generation was rendered from.</summary>
internal sealed record PromptRef(string Name, int Version);

/// <summary>
/// Wraps the LLM client once so that every call becomes a Langfuse generation with model, parameters, prompt,
/// usage, cost and time to first token. The agents call this instead of the client.
/// </summary>
internal sealed class TracedLlm(LangfuseTracer tracer, FakeLlm llm)
{
    /// <summary>Streams a completion and returns its text; the generation is a child of the current observation.</summary>
    public async Task<string> CompleteAsync(string name, ChatRequest request, PromptRef? prompt = null, CancellationToken cancellationToken = default)
    {
        await using var generation = tracer.StartGeneration(name, request.Model, input: request.Messages);
        generation
            .SetModelParameter("temperature", request.Temperature)
            .SetModelParameter("max_tokens", request.MaxTokens);
        if (prompt is not null)
        {
            generation.SetPrompt(prompt.Name, prompt.Version);
        }

        var text = new StringBuilder();
        try
        {
            await foreach (var chunk in llm.StreamChatAsync(request, cancellationToken))
            {
                if (chunk.Text.Length > 0)
                {
                    generation.MarkFirstToken(); // only the first call counts: time to first token
                    text.Append(chunk.Text);
                }

                if (chunk.Usage is { } usage)
                {
                    // As the provider reports them: prompt tokens include the cached ones. The SDK sends Langfuse
                    // uncached input and cached input as separate buckets, so its totals and prices add up.
                    generation.SetUsage(
                        input: usage.InputTokens, output: usage.OutputTokens, total: usage.TotalTokens, cachedInput: usage.CachedInputTokens);
                    var cost = ModelPrice.For(request.Model).CostOf(usage);
                    generation.SetCost(input: cost.Input, output: cost.Output, total: cost.Input + cost.Output);
                }
            }
        }
        catch (Exception ex)
        {
            generation.RecordException(ex); // the generation shows as ERROR with the message
            throw;
        }

        generation.Output = text.ToString();
        return text.ToString();
    }
}

/// <summary>
/// USD per million tokens. Langfuse can also infer cost from model and usage; sending it explicitly pins the
/// price you actually paid (discounts, cached input).
/// </summary>
internal sealed record ModelPrice(decimal InputPerMillion, decimal CachedInputPerMillion, decimal OutputPerMillion)
{
    public static ModelPrice For(string model) => model switch
    {
        "gpt-4o" => new(2.50m, 1.25m, 10.00m),
        "gpt-4o-mini" => new(0.15m, 0.075m, 0.60m),
        _ => new(0m, 0m, 0m),
    };

    public (decimal Input, decimal Output) CostOf(TokenUsage usage)
    {
        var uncached = usage.InputTokens - usage.CachedInputTokens;
        var input = ((uncached * InputPerMillion) + (usage.CachedInputTokens * CachedInputPerMillion)) / 1_000_000m;
        var output = usage.OutputTokens * OutputPerMillion / 1_000_000m;
        return (input, output);
    }
}
