namespace Langfuse.Agents.Testing;

/// <summary>A trace as Langfuse shows it (see <see cref="LangfuseIngestionModel"/>).</summary>
public sealed record IngestedTrace
{
    /// <summary>Trace id.</summary>
    public required string Id { get; init; }

    /// <summary>The trace's start as shown in the trace list, to the millisecond.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>Name.</summary>
    public string? Name { get; init; }

    /// <summary>User id.</summary>
    public string? UserId { get; init; }

    /// <summary>Session id.</summary>
    public string? SessionId { get; init; }

    /// <summary>Tags.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Release.</summary>
    public string? Release { get; init; }

    /// <summary>Version.</summary>
    public string? Version { get; init; }

    /// <summary>Environment; <c>default</c> when none was sent.</summary>
    public string Environment { get; init; } = "default";

    /// <summary>Whether the trace is public.</summary>
    public bool Public { get; init; }

    /// <summary>Input shown at the top of the trace (a string: JSON text or plain text).</summary>
    public string? Input { get; init; }

    /// <summary>Output shown at the top of the trace.</summary>
    public string? Output { get; init; }

    /// <summary>Metadata with string values.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <inheritdoc />
    public override string ToString() => $"trace '{Name}' {Id} at {Timestamp:O}";
}
