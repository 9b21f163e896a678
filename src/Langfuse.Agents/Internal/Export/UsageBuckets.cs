namespace Langfuse.Agents.Internal.Export;

/// <summary>
/// The one place where token counts as providers report them become Langfuse's usage buckets.
/// </summary>
/// <remarks>
/// Langfuse adds up every bucket whose name contains <c>input</c> (and every one containing <c>output</c>) for the
/// totals it shows, prices each bucket by name, and warns when the non-total buckets exceed <c>total</c>. So the
/// buckets must not overlap: <c>input</c> is what is left of the prompt after its cached, cache-creation and other
/// <c>input*</c> parts, <c>output</c> what is left after reasoning and other <c>output*</c> parts, and <c>total</c> is
/// their sum. The names are those of Langfuse's own OpenAI usage conversion (<c>input_{detail}</c>,
/// <c>output_{detail}</c>, in packages/shared/src/server/ingestion/types.ts), its default model prices
/// (<c>input_cached_tokens</c>, <c>input_cache_creation</c>, <c>output_reasoning_tokens</c>) and its OTLP span
/// processor, which maps provider cache reads and writes the same way.
/// </remarks>
internal static class UsageBuckets
{
    public const string Input = "input";
    public const string Output = "output";
    public const string Total = "total";
    public const string CachedInput = "input_cached_tokens";
    public const string CacheCreationInput = "input_cache_creation";
    public const string Reasoning = "output_reasoning_tokens";

    /// <summary>
    /// The largest count accepted: 2^53, the largest integer Langfuse (JavaScript) holds exactly. Larger counts are
    /// ignored like negative ones, and sums of accepted counts cannot overflow.
    /// </summary>
    public const long MaxCount = 1L << 53;

    /// <summary>The kind a name given to <c>SetUsage(kind, count)</c> stands for; null for a bucket of its own.</summary>
    public static UsageKind? Known(string kind) => kind switch
    {
        Input => UsageKind.Input,
        Output => UsageKind.Output,
        Total => UsageKind.Total,

        // Our own earlier names, Langfuse's bucket names and the providers' field names: one count, one bucket.
        "cached_input" or CachedInput or "input_cache_read" or "cache_read" or "cached_tokens" or "cache_read_input_tokens" => UsageKind.CachedInput,
        "cache_creation_input" or CacheCreationInput or "input_cache_write" or "cache_creation" or "cache_write" or "cache_creation_input_tokens" => UsageKind.CacheCreationInput,
        "reasoning" or Reasoning or "reasoning_tokens" => UsageKind.Reasoning,
        _ => null,
    };

    /// <summary>
    /// Langfuse buckets from provider counts (each -1 when not set). <paramref name="input"/> and
    /// <paramref name="output"/> include their parts, as OpenAI reports them; <paramref name="extra"/> are buckets under
    /// their own names, counted as part of input when the name contains <c>input</c>, of output when it contains
    /// <c>output</c>, else on top. <paramref name="total"/> is sent only when no other count is known: otherwise the
    /// total is the sum of the buckets, so they always add up.
    /// </summary>
    public static List<KeyValuePair<string, long>> From(
        long input, long output, long total, long cachedInput, long cacheCreationInput, long reasoning, ReadOnlySpan<KeyValuePair<string, long>> extra)
    {
        var buckets = new List<KeyValuePair<string, long>>(5 + extra.Length);
        long inputParts = Math.Max(cachedInput, 0) + Math.Max(cacheCreationInput, 0);
        long outputParts = Math.Max(reasoning, 0);
        foreach (var (name, count) in extra)
        {
            if (IsInputPart(name))
            {
                inputParts += count;
            }
            else if (IsOutputPart(name))
            {
                outputParts += count;
            }
        }

        if (input >= 0)
        {
            // A provider that reports more parts than prompt tokens is inconsistent; the parts are the finer truth.
            buckets.Add(new(Input, Math.Max(input - inputParts, 0)));
        }

        Add(buckets, CachedInput, cachedInput);
        Add(buckets, CacheCreationInput, cacheCreationInput);
        if (output >= 0)
        {
            buckets.Add(new(Output, Math.Max(output - outputParts, 0)));
        }

        Add(buckets, Reasoning, reasoning);
        foreach (var item in extra)
        {
            buckets.Add(item);
        }

        if (buckets.Count > 0)
        {
            long sum = 0;
            foreach (var (_, count) in buckets)
            {
                sum += count;
            }

            buckets.Add(new(Total, sum));
        }
        else if (total >= 0)
        {
            buckets.Add(new(Total, total));
        }

        return buckets;
    }

    private static bool IsInputPart(string name) => name.Contains(Input, StringComparison.Ordinal);

    private static bool IsOutputPart(string name) => name.Contains(Output, StringComparison.Ordinal);

    private static void Add(List<KeyValuePair<string, long>> buckets, string name, long count)
    {
        if (count >= 0)
        {
            buckets.Add(new(name, count));
        }
    }
}
