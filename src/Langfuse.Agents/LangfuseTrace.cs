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
/// the last observation of the trace ends; each observation carries the values current when it ends (see
/// <see cref="CompletedObservation.Trace"/>).
/// </remarks>
public sealed class LangfuseTrace
{
    // Copy-on-write: every change publishes a new immutable snapshot, so an ending observation takes the current one
    // with a single read and what it carries can no longer change.
    private LangfuseTraceAttributes _attributes;

    internal LangfuseTrace(ulong traceIdHigh, ulong traceIdLow, string? environment = null, string? release = null)
    {
        TraceIdHigh = traceIdHigh;
        TraceIdLow = traceIdLow;
        _attributes = new LangfuseTraceAttributes(environment, release);
    }

    internal ulong TraceIdHigh { get; }

    internal ulong TraceIdLow { get; }

    /// <summary>The trace-level properties now, as an immutable snapshot.</summary>
    public LangfuseTraceAttributes Attributes => Volatile.Read(ref _attributes);

    /// <summary>The W3C trace id: 32 lowercase hex characters.</summary>
    public string Id => Ids.TraceIdToHex(TraceIdHigh, TraceIdLow);

    /// <summary>The trace's name in Langfuse's trace list (<c>langfuse.trace.name</c>).</summary>
    public string? Name { get => Attributes.Name; set => Update(value, static (a, v) => a.Name = v); }

    /// <summary>The end user the trace belongs to (<c>langfuse.user.id</c>).</summary>
    public string? UserId { get => Attributes.UserId; set => Update(value, static (a, v) => a.UserId = v); }

    /// <summary>Groups traces into a session, for example one chat conversation (<c>langfuse.session.id</c>).</summary>
    public string? SessionId { get => Attributes.SessionId; set => Update(value, static (a, v) => a.SessionId = v); }

    /// <summary>The release of the application (<c>langfuse.release</c>); defaults to <see cref="LangfuseOptions.Release"/>.</summary>
    public string? Release { get => Attributes.Release; set => Update(value, static (a, v) => a.Release = v); }

    /// <summary>The version of the trace's logic, for comparing versions in Langfuse (<c>langfuse.version</c>).</summary>
    public string? Version { get => Attributes.Version; set => Update(value, static (a, v) => a.Version = v); }

    /// <summary>The environment (<c>langfuse.environment</c>); defaults to <see cref="LangfuseOptions.Environment"/>.</summary>
    public string? Environment { get => Attributes.Environment; set => Update(value, static (a, v) => a.Environment = v); }

    /// <summary>Whether the trace can be shared by link (<c>langfuse.trace.public</c>); <see langword="null"/> leaves it unset.</summary>
    public bool? Public { get => Attributes.Public; set => Update(value, static (a, v) => a.Public = v); }

    /// <summary>The trace's input as shown at the top of the trace; when unset Langfuse shows the root observation's input.</summary>
    public object? Input { get => Attributes.Input; set => Update(value, static (a, v) => a.Input = v); }

    /// <summary>The trace's output; when unset Langfuse shows the root observation's output.</summary>
    public object? Output { get => Attributes.Output; set => Update(value, static (a, v) => a.Output = v); }

    /// <summary>Tags for filtering traces in Langfuse (<c>langfuse.trace.tags</c>).</summary>
    public IReadOnlyList<string> Tags
    {
        get => Attributes.TagsArray;
        set => Update(
            value is null ? [] : value.Where(static t => !string.IsNullOrEmpty(t)).Distinct(StringComparer.Ordinal).ToArray(),
            static (a, v) => a.TagsArray = v);
    }

    /// <summary>Trace metadata (<c>langfuse.trace.metadata</c>); set entries with <see cref="SetMetadata"/>.</summary>
    public IReadOnlyDictionary<string, object?> Metadata => Attributes.MetadataMap;

    /// <summary>Adds tags, keeping those already present.</summary>
    /// <param name="tags">The tags to add; duplicates are ignored.</param>
    /// <returns>This trace, for chaining.</returns>
    public LangfuseTrace AddTags(params ReadOnlySpan<string> tags)
    {
        var added = tags.ToArray();
        Update(added, static (a, v) => a.TagsArray = a.TagsArray.Concat(v.Where(static t => !string.IsNullOrEmpty(t))).Distinct(StringComparer.Ordinal).ToArray());
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

        Update((key, value), static (a, kv) => a.MetadataMap = a.MetadataMap.SetItem(kv.key, kv.value));
        return this;
    }

    internal string[] TagsSnapshot => Attributes.TagsArray;

    internal ImmutableDictionary<string, object?> MetadataSnapshot => Attributes.MetadataMap;

    /// <summary>Sets the name, session and user in one snapshot (a new trace's first values).</summary>
    internal void Initialize(string? name, string? sessionId, string? userId) => Update((name, sessionId, userId), static (a, v) =>
    {
        a.Name = v.name;
        a.SessionId = v.sessionId;
        a.UserId = v.userId;
    });

    private void Update<T>(T value, Action<LangfuseTraceAttributes, T> change)
    {
        while (true)
        {
            var current = Volatile.Read(ref _attributes);
            var next = current.Copy();
            change(next, value);
            if (ReferenceEquals(Interlocked.CompareExchange(ref _attributes, next, current), current))
            {
                return;
            }
        }
    }
}
