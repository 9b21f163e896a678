namespace Langfuse.Agents.Testing;

/// <summary>
/// One observation row as Langfuse stores it after its own ingestion code has read our request (see
/// <see cref="LangfuseIngestionModel"/>): the fields its UI lists, filters and charts.
/// </summary>
public sealed record IngestedObservation
{
    /// <summary>Observation id (the span id).</summary>
    public required string Id { get; init; }

    /// <summary>Trace id.</summary>
    public required string TraceId { get; init; }

    /// <summary>Parent observation id, or null for a root.</summary>
    public string? ParentObservationId { get; init; }

    /// <summary>Upper-case type: <c>SPAN</c>, <c>GENERATION</c>, <c>EVENT</c>, <c>AGENT</c>, <c>TOOL</c>, ...</summary>
    public required string Type { get; init; }

    /// <summary>Name.</summary>
    public string? Name { get; init; }

    /// <summary>Start, kept to the millisecond as Langfuse keeps it.</summary>
    public required DateTimeOffset StartTime { get; init; }

    /// <summary>End, kept to the millisecond; never before <see cref="StartTime"/>.</summary>
    public DateTimeOffset? EndTime { get; init; }

    /// <summary>Time of the first token, kept to the millisecond.</summary>
    public DateTimeOffset? CompletionStartTime { get; init; }

    /// <summary><c>DEBUG</c>, <c>DEFAULT</c>, <c>WARNING</c> or <c>ERROR</c>.</summary>
    public string Level { get; init; } = "DEFAULT";

    /// <summary>Status message, or null.</summary>
    public string? StatusMessage { get; init; }

    /// <summary>Input as Langfuse stores it (a string: JSON text or plain text).</summary>
    public string? Input { get; init; }

    /// <summary>Output as Langfuse stores it.</summary>
    public string? Output { get; init; }

    /// <summary>Metadata with string values (OTLP rows: nested objects flattened to dotted keys, as v4 shows them).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Model name, or null.</summary>
    public string? Model { get; init; }

    /// <summary>Usage by bucket after Langfuse's own processing (a <c>total</c> is added when none was sent).</summary>
    public IReadOnlyDictionary<string, long> UsageDetails { get; init; } = new Dictionary<string, long>();

    /// <summary>Cost by bucket as provided.</summary>
    public IReadOnlyDictionary<string, decimal> CostDetails { get; init; } = new Dictionary<string, decimal>();

    /// <summary>Prompt name, or null.</summary>
    public string? PromptName { get; init; }

    /// <summary>Prompt version, or null.</summary>
    public long? PromptVersion { get; init; }

    /// <summary>Observation version (<c>langfuse.version</c>, else the resource's <c>service.version</c>).</summary>
    public string? Version { get; init; }

    /// <summary>Environment; <c>default</c> when none was sent.</summary>
    public string Environment { get; init; } = "default";

    /// <summary>Trace name carried on the row (Langfuse v4 observation rows only; null from the batch path).</summary>
    public string? TraceName { get; init; }

    /// <summary>User id carried on the row (v4 rows only).</summary>
    public string? UserId { get; init; }

    /// <summary>Session id carried on the row (v4 rows only).</summary>
    public string? SessionId { get; init; }

    /// <summary>Trace tags carried on the row (v4 rows only).</summary>
    public IReadOnlyList<string> TraceTags { get; init; } = [];

    /// <summary>Release carried on the row (v4 rows only).</summary>
    public string? Release { get; init; }

    /// <summary>The <c>service.name</c> of the process that sent it (OTLP only).</summary>
    public string? ServiceName { get; init; }

    /// <summary>Input tokens as Langfuse displays them: the sum of every usage bucket whose name contains <c>input</c>.</summary>
    public long InputTokens => SumOf("input");

    /// <summary>Output tokens as Langfuse displays them: the sum of every usage bucket whose name contains <c>output</c>.</summary>
    public long OutputTokens => SumOf("output");

    /// <summary>The <c>total</c> usage bucket, or 0.</summary>
    public long TotalTokens => UsageDetails.TryGetValue("total", out var total) ? total : 0;

    /// <summary>The sum of every usage bucket except <c>total</c>.</summary>
    public long NonTotalTokens => UsageDetails.Where(kv => kv.Key != "total").Sum(kv => kv.Value);

    /// <summary>Duration in milliseconds as Langfuse shows it, or null while open.</summary>
    public double? LatencyMilliseconds => EndTime is { } end ? (end - StartTime).TotalMilliseconds : null;

    /// <inheritdoc />
    public override string ToString() => $"{Type} '{Name}' {TraceId}/{Id} parent={ParentObservationId ?? "-"}";

    private long SumOf(string part) =>
        UsageDetails.Where(kv => kv.Key.Contains(part, StringComparison.Ordinal)).Sum(kv => kv.Value);
}
