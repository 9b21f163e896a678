using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace ResearchAgents;

/// <summary>One chat message, in the shape Langfuse renders as a conversation.</summary>
internal sealed record ChatMessage(string Role, string Content);

/// <summary>A chat completion request: what a real client (OpenAI, Azure OpenAI, Ollama...) would take.</summary>
internal sealed record ChatRequest(string Model, IReadOnlyList<ChatMessage> Messages, double Temperature = 0.2, int MaxTokens = 512);

/// <summary>Token counts as a provider reports them in the last streamed chunk.</summary>
internal sealed record TokenUsage(long InputTokens, long OutputTokens, long CachedInputTokens)
{
    public long TotalTokens => InputTokens + OutputTokens;
}

/// <summary>One streamed chunk: text, and on the last chunk the usage.</summary>
internal sealed record ChatChunk(string Text, TokenUsage? Usage = null);

/// <summary>
/// A deterministic, offline stand-in for an LLM client. It streams canned answers derived from the prompt in
/// <see cref="Chunks"/> chunks with a model's pace: the first token after <see cref="TimeToFirstToken"/>, then a chunk
/// every <see cref="TimePerChunk"/> (so Langfuse shows real durations and time to first token, not 0 ms). The waits
/// run on the <see cref="TimeProvider"/> given, so a test with a fake clock need not wait. Swap it for your real
/// client; the tracing code around it does not change.
/// </summary>
internal sealed class FakeLlm(TimeProvider timeProvider)
{
    public const int Chunks = 6;
    public static readonly TimeSpan TimeToFirstToken = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan TimePerChunk = TimeSpan.FromMilliseconds(10);

    public async IAsyncEnumerable<ChatChunk> StreamChatAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var system = request.Messages.FirstOrDefault(m => m.Role == "system")?.Content ?? string.Empty;
        var user = request.Messages.LastOrDefault(m => m.Role == "user")?.Content ?? string.Empty;
        var reply = system.Contains("planner", StringComparison.Ordinal) ? Plan(user) : Summarize(user);

        await Task.Delay(TimeToFirstToken, timeProvider, cancellationToken); // the prompt is read, the first token comes
        var words = reply.Split(' ');
        var perChunk = (words.Length + Chunks - 1) / Chunks;
        for (var i = 0; i < words.Length; i += perChunk)
        {
            var text = string.Join(' ', words.Skip(i).Take(perChunk));
            yield return new ChatChunk(i == 0 ? text : " " + text);
            await Task.Delay(TimePerChunk, timeProvider, cancellationToken);
        }

        // Like OpenAI's stream_options.include_usage: usage arrives with the final chunk.
        // The system prompt is identical on every call, so a provider would serve it from its prompt cache.
        yield return new ChatChunk(string.Empty, new TokenUsage(
            InputTokens: request.Messages.Sum(m => CountTokens(m.Content)) + (4 * request.Messages.Count),
            OutputTokens: CountTokens(reply),
            CachedInputTokens: CountTokens(system)));
    }

    /// <summary>About four characters per token, like English text in GPT tokenizers.</summary>
    private static long CountTokens(string text) => Math.Max(1, (text.Length + 3) / 4);

    private static string Plan(string query)
    {
        var topic = Topic(query);
        return $"search: {topic} overview\nsearch: {topic} recent developments\nroute: research\nreason: needs current sources";
    }

    private static string Summarize(string prompt)
    {
        var question = prompt.Split('\n')[0].Replace("Question: ", string.Empty, StringComparison.Ordinal);
        var sources = prompt.Split('\n').Where(l => l.StartsWith("- ", StringComparison.Ordinal))
            .Select(l => l[2..].Split(" (")[0]).ToList(); // "- Title (url)" -> "Title"
        var answer = new StringBuilder($"In short: {Topic(question)} is best understood from {sources.Count} sources.");
        for (var i = 0; i < sources.Count; i++)
        {
            answer.Append(CultureInfo.InvariantCulture, $" [{i + 1}] {sources[i]}");
        }

        return answer.ToString();
    }

    private static string Topic(string query) =>
        query.Trim().TrimEnd('?', '.', '!').Replace("What is ", string.Empty, StringComparison.OrdinalIgnoreCase)
            .Replace("How do ", string.Empty, StringComparison.OrdinalIgnoreCase)
            .Replace("How does ", string.Empty, StringComparison.OrdinalIgnoreCase);
}
