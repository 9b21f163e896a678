using System.Collections.Immutable;

namespace Langfuse.Agents;

/// <summary>
/// The trace-level properties of a trace at one moment: an immutable snapshot of a <see cref="LangfuseTrace"/>.
/// Each <see cref="CompletedObservation"/> carries the snapshot taken when it ended, so what is sent does not depend
/// on when the batch happens to be exported.
/// </summary>
public sealed class LangfuseTraceAttributes
{
    internal LangfuseTraceAttributes(string? environment, string? release)
    {
        Environment = environment;
        Release = release;
    }

    private LangfuseTraceAttributes(LangfuseTraceAttributes other)
    {
        Name = other.Name;
        UserId = other.UserId;
        SessionId = other.SessionId;
        Release = other.Release;
        Version = other.Version;
        Environment = other.Environment;
        Public = other.Public;
        Input = other.Input;
        Output = other.Output;
        TagsArray = other.TagsArray;
        MetadataMap = other.MetadataMap;
    }

    /// <summary>The trace's name (<c>langfuse.trace.name</c>).</summary>
    public string? Name { get; internal set; }

    /// <summary>The end user (<c>langfuse.user.id</c>).</summary>
    public string? UserId { get; internal set; }

    /// <summary>The session (<c>langfuse.session.id</c>).</summary>
    public string? SessionId { get; internal set; }

    /// <summary>The application's release (<c>langfuse.release</c>).</summary>
    public string? Release { get; internal set; }

    /// <summary>The version of the trace's logic (<c>langfuse.version</c>).</summary>
    public string? Version { get; internal set; }

    /// <summary>The environment (<c>langfuse.environment</c>).</summary>
    public string? Environment { get; internal set; }

    /// <summary>Whether the trace can be shared by link; <see langword="null"/> when unset.</summary>
    public bool? Public { get; internal set; }

    /// <summary>The trace's input, if set.</summary>
    public object? Input { get; internal set; }

    /// <summary>The trace's output, if set.</summary>
    public object? Output { get; internal set; }

    /// <summary>The trace's tags.</summary>
    public IReadOnlyList<string> Tags => TagsArray;

    /// <summary>The trace's metadata.</summary>
    public IReadOnlyDictionary<string, object?> Metadata => MetadataMap;

    internal string[] TagsArray { get; set; } = [];

    internal ImmutableDictionary<string, object?> MetadataMap { get; set; } = ImmutableDictionary<string, object?>.Empty;

    /// <summary>A copy to change before it is published (the snapshot itself never changes once shared).</summary>
    internal LangfuseTraceAttributes Copy() => new(this);
}
