namespace Langfuse.Agents.Internal.Export;

/// <summary>
/// A completed observation after masking, serialization and size limits, ready for an encoder.
/// Built on the background path; every user value is already a string (JSON, or plain text for strings).
/// </summary>
internal sealed class PreparedObservation
{
    public required ulong TraceIdHigh { get; init; }

    public required ulong TraceIdLow { get; init; }

    public required ulong SpanId { get; init; }

    /// <summary>0 when the observation is a root.</summary>
    public ulong ParentSpanId { get; init; }

    /// <summary>True when the parent lives in another process (W3C traceparent or Activity).</summary>
    public bool ParentIsRemote { get; init; }

    public bool Sampled { get; init; } = true;

    public required ObservationType Type { get; init; }

    public required string Name { get; init; }

    public required DateTimeOffset StartTime { get; init; }

    public required DateTimeOffset EndTime { get; init; }

    /// <summary>JSON text, or the plain string when the value was a string. Null when unset.</summary>
    public string? Input { get; set; }

    /// <summary>JSON text, or the plain string when the value was a string. Null when unset.</summary>
    public string? Output { get; set; }

    /// <summary>A JSON object. Null when unset.</summary>
    public string? Metadata { get; set; }

    /// <summary>True when <see cref="Input"/> holds a plain string rather than JSON text.</summary>
    public bool InputIsPlainString { get; set; }

    /// <summary>True when <see cref="Output"/> holds a plain string rather than JSON text.</summary>
    public bool OutputIsPlainString { get; set; }

    public ObservationLevel Level { get; init; }

    public string? StatusMessage { get; init; }

    public string? Version { get; init; }

    /// <summary>The exception recorded on the observation, if any: type, message and stack trace.</summary>
    public RecordedException? Exception { get; init; }

    // Generation-like fields.
    public string? Model { get; init; }

    /// <summary>A JSON object.</summary>
    public string? ModelParameters { get; init; }

    /// <summary>A JSON object of non-negative integers.</summary>
    public string? UsageDetails { get; init; }

    /// <summary>A JSON object of non-negative numbers.</summary>
    public string? CostDetails { get; init; }

    public DateTimeOffset? CompletionStartTime { get; init; }

    public string? PromptName { get; init; }

    public int? PromptVersion { get; init; }

    // Trace-level fields, carried on every observation of the trace.
    public string? TraceName { get; init; }

    public string? UserId { get; init; }

    public string? SessionId { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>A JSON object.</summary>
    public string? TraceMetadata { get; init; }

    public bool? TracePublic { get; init; }

    public string? Release { get; init; }

    public string? TraceVersion { get; init; }

    public string? Environment { get; init; }

    /// <summary>Only on the process-local root of the trace: JSON text or plain string.</summary>
    public string? TraceInput { get; set; }

    /// <summary>Only on the process-local root of the trace: JSON text or plain string.</summary>
    public string? TraceOutput { get; set; }

    public bool TraceInputIsPlainString { get; set; }

    public bool TraceOutputIsPlainString { get; set; }

    /// <summary>True when this observation started the trace in this process (its root here).</summary>
    public bool IsLocalRoot { get; init; }

    /// <summary>
    /// When the trace's local root started: the trace's start when the trace began in this process. Null only for
    /// hand-built items (the batch's earliest start is used then).
    /// </summary>
    public DateTimeOffset? TraceStart { get; init; }

    /// <summary>
    /// True when the trace began in another process (its local root has a remote parent): this process then owns
    /// neither the trace's start nor its input and output.
    /// </summary>
    public bool ContinuesRemoteTrace { get; init; }

    /// <summary>A rough size in bytes used for batching; set by the preparer.</summary>
    public int EstimatedBytes { get; set; }
}

/// <summary>An exception as recorded on an observation, captured as strings when it was recorded.</summary>
internal sealed record RecordedException(string Type, string Message, string? StackTrace);
