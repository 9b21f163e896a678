using Langfuse.Agents.Internal;
using Langfuse.Agents.Internal.Export;

namespace Langfuse.Agents;

/// <summary>
/// A call to a language or embedding model: the model, its parameters, token usage, cost, time to first token
/// and the prompt it used, on top of everything a <see cref="LangfuseObservation"/> records.
/// </summary>
public sealed class LangfuseGeneration : LangfuseObservation
{
    private string? _model;
    private SmallMap<object?> _modelParameters;
    private SmallMap<long> _usage; // buckets under their own names, besides the counts below
    private long _inputTokens = -1;
    private long _outputTokens = -1;
    private long _totalTokens = -1;
    private long _cachedInputTokens = -1;
    private long _cacheCreationInputTokens = -1;
    private long _reasoningTokens = -1;
    private SmallMap<decimal> _cost;
    private DateTimeOffset? _completionStartTime;
    private string? _promptName;
    private int? _promptVersion;

    internal LangfuseGeneration(LangfuseTracer tracer, ObservationType type, string name, in ObservationLineage lineage, DateTimeOffset startTime)
        : base(tracer, type, name, lineage, startTime)
    {
    }

    /// <summary>The model name, for example <c>gpt-4o</c>; Langfuse prices usage by it.</summary>
    public string? Model
    {
        get => _model;
        set
        {
            if (CanChange())
            {
                _model = value;
            }
        }
    }

    /// <summary>The model parameters set so far (temperature, max tokens...).</summary>
    public IReadOnlyDictionary<string, object?> ModelParameters => _modelParameters.ToDictionary();

    /// <summary>
    /// Token counts as set, in the providers' terms: <c>input</c>, <c>output</c>, <c>total</c>, <c>cached_input</c>,
    /// <c>cache_creation_input</c>, <c>reasoning</c>, and any bucket set under its own name. See
    /// <see cref="UsageDetails"/> for what Langfuse receives.
    /// </summary>
    public IReadOnlyDictionary<string, long> Usage
    {
        get
        {
            var usage = new Dictionary<string, long>(StringComparer.Ordinal);
            Add("input", _inputTokens);
            Add("output", _outputTokens);
            Add("total", _totalTokens);
            Add("cached_input", _cachedInputTokens);
            Add("cache_creation_input", _cacheCreationInputTokens);
            Add("reasoning", _reasoningTokens);
            foreach (var (kind, count) in _usage.Items)
            {
                usage[kind] = count;
            }

            return usage;

            void Add(string kind, long count)
            {
                if (count >= 0)
                {
                    usage[kind] = count;
                }
            }
        }
    }

    /// <summary>
    /// The usage buckets Langfuse receives, which never overlap and add up to <c>total</c>: <c>input</c> without its
    /// cached and cache-creation parts, <c>input_cached_tokens</c>, <c>input_cache_creation</c>, <c>output</c> without
    /// reasoning, <c>output_reasoning_tokens</c>, other buckets by name, and <c>total</c>, their sum.
    /// </summary>
    public IReadOnlyDictionary<string, long> UsageDetails
    {
        get
        {
            var details = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (kind, count) in UsageDetailItems())
            {
                details[kind] = count;
            }

            return details;
        }
    }

    /// <summary>Cost by kind, in USD (<c>input</c>, <c>output</c>, <c>total</c>...). When unset, Langfuse infers it from model and usage.</summary>
    public IReadOnlyDictionary<string, decimal> Cost => _cost.ToDictionary();

    /// <summary>When the first token arrived; Langfuse shows time to first token from it.</summary>
    public DateTimeOffset? CompletionStartTime
    {
        get => _completionStartTime;
        set
        {
            if (CanChange())
            {
                _completionStartTime = value;
            }
        }
    }

    /// <summary>The name of the Langfuse prompt used (set together with <see cref="PromptVersion"/>).</summary>
    public string? PromptName => _promptName;

    /// <summary>The version of the Langfuse prompt used.</summary>
    public int? PromptVersion => _promptVersion;

    /// <summary>Sets one model parameter.</summary>
    /// <param name="name">The parameter, for example <c>temperature</c>.</param>
    /// <param name="value">Its value (a string, number or boolean).</param>
    /// <returns>This generation, for chaining.</returns>
    public LangfuseGeneration SetModelParameter(string name, object? value)
    {
        if (name is not null && CanChange())
        {
            _modelParameters.Set(name, value);
        }

        return this;
    }

    /// <summary>
    /// Sets token usage from the numbers a provider reports. <paramref name="input"/> and <paramref name="output"/>
    /// are the whole prompt and completion, including their cached and reasoning parts, as OpenAI reports them
    /// (<c>prompt_tokens</c>, <c>completion_tokens</c>); the parts are passed on their own and subtracted when the usage
    /// is sent, so Langfuse's buckets add up (see the README's Token usage table for Anthropic and Gemini). Counts left
    /// null are not changed; negative counts and counts above 2^53 are ignored.
    /// </summary>
    /// <param name="input">All prompt tokens, including cached and cache-creation tokens.</param>
    /// <param name="output">All completion tokens, including reasoning tokens.</param>
    /// <param name="total">Total tokens; used only when no other count is set, since the total sent is always the sum of the buckets.</param>
    /// <param name="cachedInput">Prompt tokens read from the provider's cache (OpenAI <c>cached_tokens</c>, Anthropic <c>cache_read_input_tokens</c>).</param>
    /// <param name="cacheCreationInput">Prompt tokens written to the cache (Anthropic <c>cache_creation_input_tokens</c>).</param>
    /// <param name="reasoning">Completion tokens spent on reasoning (OpenAI <c>reasoning_tokens</c>).</param>
    /// <returns>This generation, for chaining.</returns>
    public LangfuseGeneration SetUsage(
        long? input = null, long? output = null, long? total = null, long? cachedInput = null, long? cacheCreationInput = null, long? reasoning = null)
    {
        if (!CanChange())
        {
            return this;
        }

        Set(ref _inputTokens, input);
        Set(ref _outputTokens, output);
        Set(ref _totalTokens, total);
        Set(ref _cachedInputTokens, cachedInput);
        Set(ref _cacheCreationInputTokens, cacheCreationInput);
        Set(ref _reasoningTokens, reasoning);
        return this;

        static void Set(ref long field, long? count)
        {
            if (count is >= 0 and <= UsageBuckets.MaxCount)
            {
                field = count.Value;
            }
        }
    }

    /// <summary>
    /// Sets one usage count by name. <c>input</c>, <c>output</c>, <c>total</c>, <c>cached_input</c>,
    /// <c>cache_creation_input</c> and <c>reasoning</c> (or the providers' and Langfuse's names for them, such as
    /// <c>cached_tokens</c> or <c>input_cached_tokens</c>) mean what the parameters of
    /// <see cref="SetUsage(long?, long?, long?, long?, long?, long?)"/> mean. Any other name is a Langfuse bucket of its
    /// own, for example <c>input_audio_tokens</c>: a name containing <c>input</c> counts as part of the input (and is
    /// subtracted from it), one containing <c>output</c> as part of the output, any other is added on top.
    /// </summary>
    /// <param name="kind">The kind of tokens.</param>
    /// <param name="count">The count; ignored when null, negative or above 2^53.</param>
    /// <returns>This generation, for chaining.</returns>
    public LangfuseGeneration SetUsage(string kind, long? count)
    {
        if (string.IsNullOrEmpty(kind) || count is not (>= 0 and <= UsageBuckets.MaxCount) || !CanChange())
        {
            return this;
        }

        switch (UsageBuckets.Known(kind))
        {
            case UsageKind.Input: _inputTokens = count.Value; break;
            case UsageKind.Output: _outputTokens = count.Value; break;
            case UsageKind.Total: _totalTokens = count.Value; break;
            case UsageKind.CachedInput: _cachedInputTokens = count.Value; break;
            case UsageKind.CacheCreationInput: _cacheCreationInputTokens = count.Value; break;
            case UsageKind.Reasoning: _reasoningTokens = count.Value; break;
            default: _usage.Set(kind, count.Value); break;
        }

        return this;
    }

    /// <summary>Sets cost in USD. Amounts left null are not changed; negative amounts are ignored.</summary>
    /// <param name="input">Cost of the input.</param>
    /// <param name="output">Cost of the output.</param>
    /// <param name="total">Total cost.</param>
    /// <returns>This generation, for chaining.</returns>
    public LangfuseGeneration SetCost(decimal? input = null, decimal? output = null, decimal? total = null)
    {
        SetCost("input", input);
        SetCost("output", output);
        SetCost("total", total);
        return this;
    }

    /// <summary>Sets one cost entry in USD.</summary>
    /// <param name="kind">The kind of cost.</param>
    /// <param name="amount">The amount; ignored when null or negative.</param>
    /// <returns>This generation, for chaining.</returns>
    public LangfuseGeneration SetCost(string kind, decimal? amount)
    {
        if (kind is not null && amount is >= 0 && CanChange())
        {
            _cost.Set(kind, amount.Value);
        }

        return this;
    }

    /// <summary>Links the generation to a Langfuse prompt (name and version are sent together).</summary>
    /// <param name="name">The prompt's name.</param>
    /// <param name="version">The prompt's version.</param>
    /// <returns>This generation, for chaining.</returns>
    public LangfuseGeneration SetPrompt(string name, int version)
    {
        if (!string.IsNullOrEmpty(name) && CanChange())
        {
            _promptName = name;
            _promptVersion = version;
        }

        return this;
    }

    /// <summary>Marks now as the arrival of the first token (time to first token), once.</summary>
    /// <returns>This generation, for chaining.</returns>
    public LangfuseGeneration MarkFirstToken()
    {
        if (_completionStartTime is null && CanChange())
        {
            _completionStartTime = Tracer.Now();
        }

        return this;
    }

    internal override int EstimateExtraBytes() =>
        64 + (_modelParameters.Count * 48) + ((_usage.Count + 6) * 32) + (_cost.Count * 32);

    internal ReadOnlySpan<KeyValuePair<string, object?>> ModelParameterItems => _modelParameters.Items;

    /// <summary>The Langfuse usage buckets (see <see cref="UsageDetails"/>); empty when no usage was set.</summary>
    internal List<KeyValuePair<string, long>> UsageDetailItems() =>
        UsageBuckets.From(_inputTokens, _outputTokens, _totalTokens, _cachedInputTokens, _cacheCreationInputTokens, _reasoningTokens, _usage.Items);

    internal ReadOnlySpan<KeyValuePair<string, decimal>> CostItems => _cost.Items;
}
