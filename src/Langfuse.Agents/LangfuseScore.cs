namespace Langfuse.Agents;

/// <summary>A score as recorded: an evaluation of a trace, an observation or a session.</summary>
public sealed class LangfuseScore
{
    internal LangfuseScore(string id, string name, ScoreValue value, DateTimeOffset timestamp)
    {
        Id = id;
        Name = name;
        Value = value;
        Timestamp = timestamp;
    }

    /// <summary>The score's id (sent as <c>body.id</c>, so a resend is deduplicated).</summary>
    public string Id { get; }

    /// <summary>The score's name, for example <c>quality</c>.</summary>
    public string Name { get; }

    /// <summary>The value and its data type.</summary>
    public ScoreValue Value { get; }

    /// <summary>When the score was recorded.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>A free-text comment, if any.</summary>
    public string? Comment { get; init; }

    /// <summary>The scored trace (32 hex characters), or <see langword="null"/> for a session score.</summary>
    public string? TraceId { get; init; }

    /// <summary>The scored observation (16 hex characters), if the score targets one.</summary>
    public string? ObservationId { get; init; }

    /// <summary>The scored session, for a session score.</summary>
    public string? SessionId { get; init; }

    /// <summary>Metadata of the score, if any.</summary>
    public IReadOnlyDictionary<string, object?>? Metadata { get; init; }

    /// <summary>The environment the score belongs to.</summary>
    public string? Environment { get; init; }

    internal int EstimatedBytes => 256 + (Comment?.Length ?? 0) + (Value.Text?.Length ?? 0);
}
