using System.Collections.Immutable;
using Langfuse.Agents.Internal;

namespace Langfuse.Agents;

/// <summary>
/// The trace-level properties of one trace as seen by this process: name, user, session, tags, metadata,
/// release, version, environment, visibility, input and output. Every observation of the trace carries them,
/// so a trace assembled from several services still gets them in Langfuse.
/// </summary>
/// <remarks>
/// Obtain it from <see cref="LangfuseObservation.Trace"/>. Setters are thread-safe and may be called until
/// the last observation of the trace ends; each observation carries the values current when it is exported.
/// </remarks>
public sealed class LangfuseTrace
{
    private volatile string? _name;
    private volatile string? _userId;
    private volatile string? _sessionId;
    private volatile string? _release;
    private volatile string? _version;
    private volatile string? _environment;
    private volatile object? _input;
    private volatile object? _output;
    private volatile StrongBox<bool>? _public;
    private string[] _tags = [];
    private ImmutableDictionary<string, object?> _metadata = ImmutableDictionary<string, object?>.Empty;

    internal LangfuseTrace(ulong traceIdHigh, ulong traceIdLow)
    {
        TraceIdHigh = traceIdHigh;
        TraceIdLow = traceIdLow;
    }

    internal ulong TraceIdHigh { get; }

    internal ulong TraceIdLow { get; }

    /// <summary>The W3C trace id: 32 lowercase hex characters.</summary>
    public string Id => Ids.TraceIdToHex(TraceIdHigh, TraceIdLow);

    /// <summary>The trace's name in Langfuse's trace list (<c>langfuse.trace.name</c>).</summary>
    public string? Name { get => _name; set => _name = value; }

    /// <summary>The end user the trace belongs to (<c>langfuse.user.id</c>).</summary>
    public string? UserId { get => _userId; set => _userId = value; }

    /// <summary>Groups traces into a session, for example one chat conversation (<c>langfuse.session.id</c>).</summary>
    public string? SessionId { get => _sessionId; set => _sessionId = value; }

    /// <summary>The release of the application (<c>langfuse.release</c>); defaults to <see cref="LangfuseOptions.Release"/>.</summary>
    public string? Release { get => _release; set => _release = value; }

    /// <summary>The version of the trace's logic, for comparing versions in Langfuse (<c>langfuse.version</c>).</summary>
    public string? Version { get => _version; set => _version = value; }

    /// <summary>The environment (<c>langfuse.environment</c>); defaults to <see cref="LangfuseOptions.Environment"/>.</summary>
    public string? Environment { get => _environment; set => _environment = value; }

    /// <summary>Whether the trace can be shared by link (<c>langfuse.trace.public</c>); <see langword="null"/> leaves it unset.</summary>
    public bool? Public
    {
        get => _public?.Value;
        set => _public = value is { } v ? new StrongBox<bool>(v) : null;
    }

    /// <summary>The trace's input as shown at the top of the trace; when unset Langfuse shows the root observation's input.</summary>
    public object? Input { get => _input; set => _input = value; }

    /// <summary>The trace's output; when unset Langfuse shows the root observation's output.</summary>
    public object? Output { get => _output; set => _output = value; }

    /// <summary>Tags for filtering traces in Langfuse (<c>langfuse.trace.tags</c>).</summary>
    public IReadOnlyList<string> Tags
    {
        get => Volatile.Read(ref _tags);
        set => Volatile.Write(ref _tags, value is null ? [] : [.. value.Where(static t => !string.IsNullOrEmpty(t)).Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>Trace metadata (<c>langfuse.trace.metadata</c>); set entries with <see cref="SetMetadata"/>.</summary>
    public IReadOnlyDictionary<string, object?> Metadata => Volatile.Read(ref _metadata);

    /// <summary>Adds tags, keeping those already present.</summary>
    /// <param name="tags">The tags to add; duplicates are ignored.</param>
    /// <returns>This trace, for chaining.</returns>
    public LangfuseTrace AddTags(params ReadOnlySpan<string> tags)
    {
        var added = tags.ToArray();
        while (true)
        {
            var current = Volatile.Read(ref _tags);
            var next = current.Concat(added.Where(static t => !string.IsNullOrEmpty(t))).Distinct(StringComparer.Ordinal).ToArray();
            if (ReferenceEquals(Interlocked.CompareExchange(ref _tags, next, current), current))
            {
                break;
            }
        }

        return this;
    }

    /// <summary>Sets one metadata entry of the trace.</summary>
    /// <param name="key">The metadata key.</param>
    /// <param name="value">Any JSON-serializable value.</param>
    /// <returns>This trace, for chaining.</returns>
    public LangfuseTrace SetMetadata(string key, object? value)
    {
        if (key is null)
        {
            return this;
        }

        ImmutableInterlocked.Update(ref _metadata, static (current, kv) => current.SetItem(kv.key, kv.value), (key, value));
        return this;
    }

    internal string[] TagsSnapshot => Volatile.Read(ref _tags);

    internal ImmutableDictionary<string, object?> MetadataSnapshot => Volatile.Read(ref _metadata);

    private sealed class StrongBox<T>(T value)
    {
        public T Value { get; } = value;
    }
}
