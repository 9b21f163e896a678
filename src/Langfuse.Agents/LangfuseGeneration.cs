using Langfuse.Agents.Internal;

namespace Langfuse.Agents;

/// <summary>
/// A call to a language or embedding model: the model, its parameters, token usage, cost, time to first token
/// and the prompt it used, on top of everything a <see cref="LangfuseObservation"/> records.
/// </summary>
public sealed class LangfuseGeneration : LangfuseObservation
{
    private string? _model;
    private SmallMap<object?> _modelParameters;
    private SmallMap<long> _usage; // kinds other than the three below
    private long _inputTokens = -1;
    private long _outputTokens = -1;
    private long _totalTokens = -1;
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

    /// <summary>Token usage by kind (<c>input</c>, <c>output</c>, <c>total</c>, <c>cached_input</c>, <c>reasoning</c>...).</summary>
    public IReadOnlyDictionary<string, long> Usage
    {
        get
        {
            var usage = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (kind, count) in UsageItems())
            {
                usage[kind] = count;
            }

            return usage;
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

    /// <summary>Sets token usage. Counts left null are not changed; negative counts are ignored.</summary>
    /// <param name="input">Prompt tokens.</param>
    /// <param name="output">Completion tokens.</param>
    /// <param name="total">Total tokens; Langfuse adds input and output when omitted.</param>
    /// <returns>This generation, for chaining.</returns>
    public LangfuseGeneration SetUsage(long? input = null, long? output = null, long? total = null)
    {
        SetUsage("input", input);
        SetUsage("output", output);
        SetUsage("total", total);
        return this;
    }

    /// <summary>Sets one usage count, such as <c>cached_input</c> or <c>reasoning</c>.</summary>
    /// <param name="kind">The kind of tokens.</param>
    /// <param name="count">The count; ignored when null or negative (Langfuse drops negative counts).</param>
    /// <returns>This generation, for chaining.</returns>
    public LangfuseGeneration SetUsage(string kind, long? count)
    {
        if (kind is not null && count is >= 0 && CanChange())
        {
            // The three common kinds live in fields: no allocation for the usual SetUsage(input, output, total).
            switch (kind)
            {
                case "input": _inputTokens = count.Value; break;
                case "output": _outputTokens = count.Value; break;
                case "total": _totalTokens = count.Value; break;
                default: _usage.Set(kind, count.Value); break;
            }
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
        64 + (_modelParameters.Count * 48) + ((_usage.Count + 3) * 32) + (_cost.Count * 32);

    internal ReadOnlySpan<KeyValuePair<string, object?>> ModelParameterItems => _modelParameters.Items;

    /// <summary>Every usage count set, the common kinds first.</summary>
    internal List<KeyValuePair<string, long>> UsageItems()
    {
        var items = new List<KeyValuePair<string, long>>(3 + _usage.Count);
        if (_inputTokens >= 0)
        {
            items.Add(new("input", _inputTokens));
        }

        if (_outputTokens >= 0)
        {
            items.Add(new("output", _outputTokens));
        }

        if (_totalTokens >= 0)
        {
            items.Add(new("total", _totalTokens));
        }

        foreach (var item in _usage.Items)
        {
            items.Add(item);
        }

        return items;
    }

    internal ReadOnlySpan<KeyValuePair<string, decimal>> CostItems => _cost.Items;
}
