namespace Langfuse.Agents.Internal.Export;

/// <summary>A score ready for the <c>score-create</c> encoder.</summary>
internal sealed class PreparedScore
{
    /// <summary>The score's own id (<c>body.id</c>), stable across resends so Langfuse deduplicates.</summary>
    public required string Id { get; init; }

    /// <summary>The id of the <c>score-create</c> envelope, stable across resends.</summary>
    public required string EventId { get; init; }

    public required string Name { get; init; }

    public required ScoreValue Value { get; init; }

    public required DateTimeOffset Timestamp { get; init; }

    public string? Comment { get; init; }

    /// <summary>32 lowercase hex characters, or null for a session score.</summary>
    public string? TraceId { get; init; }

    /// <summary>16 lowercase hex characters; only with <see cref="TraceId"/>.</summary>
    public string? ObservationId { get; init; }

    public string? SessionId { get; init; }

    /// <summary>A JSON object, or null.</summary>
    public string? Metadata { get; init; }

    public string? Environment { get; init; }
}
