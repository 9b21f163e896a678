using System.Diagnostics;
using Langfuse.Agents.Internal;

namespace Langfuse.Agents;

/// <summary>
/// One step of an agent's run: a span, an agent, a tool call, a retrieval, a generation (see <see cref="LangfuseGeneration"/>),
/// and so on. Start one from a <see cref="LangfuseTracer"/> or from a parent observation; dispose it (sync or async)
/// to end it. While it is open it is the current observation of its async flow, so observations started inside it,
/// including in parallel tasks, become its children.
/// </summary>
/// <remarks>
/// Set properties from the code that owns the observation; like <see cref="Activity"/>, one observation is not
/// meant to be mutated from several threads at once. Once ended it is frozen: later changes are ignored.
/// Nothing here ever throws into your code.
/// </remarks>
[DebuggerDisplay("{Type} {Name} ({Id})")]
public class LangfuseObservation : IDisposable, IAsyncDisposable
{
    private readonly LangfuseTracer _tracer;
    private LangfuseObservation? _previousCurrent;
    private SmallMap<object?> _metadata;
    private string _name;
    private object? _input;
    private object? _output;
    private ObservationLevel _level;
    private string? _statusMessage;
    private string? _version;
    private Exception? _exception;
    private readonly LangfuseObservation? _root;
    private readonly long _startTicks;
    private long _endTicks;
    private LangfuseTrace? _trace;
    private int _ended;

    internal LangfuseObservation(LangfuseTracer tracer, ObservationType type, string name, in ObservationLineage lineage, DateTimeOffset startTime)
    {
        _tracer = tracer;
        Type = type;
        _name = name;
        _root = lineage.Root;
        _trace = lineage.Trace;
        TraceIdHigh = lineage.TraceIdHigh;
        TraceIdLow = lineage.TraceIdLow;
        SpanId = lineage.SpanId;
        ParentSpanId = lineage.ParentSpanId;
        ParentIsRemote = lineage.ParentIsRemote;
        IsSampled = lineage.Sampled;
        _startTicks = startTime.UtcTicks;
    }

    /// <summary>The observation's type.</summary>
    public ObservationType Type { get; }

    /// <summary>The trace this observation belongs to, with its trace-level properties (name, user, session, tags...).</summary>
    /// <remarks>Shared by every observation of the trace in this process; created on first use.</remarks>
    public LangfuseTrace Trace
    {
        get
        {
            var owner = _root ?? this;
            return owner._trace ?? Interlocked.CompareExchange(ref owner._trace, _tracer.CreateTrace(TraceIdHigh, TraceIdLow), null) ?? owner._trace!;
        }
    }

    /// <summary>The observation id: a W3C span id, 16 lowercase hex characters.</summary>
    public string Id => Ids.SpanIdToHex(SpanId);

    /// <summary>The trace id: a W3C trace id, 32 lowercase hex characters.</summary>
    public string TraceId => Ids.TraceIdToHex(TraceIdHigh, TraceIdLow);

    /// <summary>The parent observation's id, or <see langword="null"/> for a root.</summary>
    public string? ParentId => ParentSpanId == 0 ? null : Ids.SpanIdToHex(ParentSpanId);

    /// <summary>Whether this observation's trace is kept by sampling; unsampled observations are never sent.</summary>
    public bool IsSampled { get; }

    /// <summary>When the observation started.</summary>
    public DateTimeOffset StartTime => new(_startTicks, TimeSpan.Zero);

    /// <summary>When the observation ended, or <see langword="null"/> while it is open.</summary>
    public DateTimeOffset? EndTime => IsEnded ? EndTimeUnchecked : null;

    /// <summary>Whether the observation has ended (and is frozen).</summary>
    public bool IsEnded => Volatile.Read(ref _ended) != 0;

    /// <summary>The name shown in Langfuse.</summary>
    public string Name
    {
        get => _name;
        set
        {
            if (CanChange() && !string.IsNullOrEmpty(value))
            {
                _name = value;
            }
        }
    }

    /// <summary>The input: a string, or any JSON-serializable value (serialized later, off your thread).</summary>
    public object? Input
    {
        get => _input;
        set
        {
            if (CanChange())
            {
                _input = value;
            }
        }
    }

    /// <summary>The output: a string, or any JSON-serializable value (serialized later, off your thread).</summary>
    public object? Output
    {
        get => _output;
        set
        {
            if (CanChange())
            {
                _output = value;
            }
        }
    }

    /// <summary>The severity; <see cref="ObservationLevel.Error"/> marks a failed step.</summary>
    public ObservationLevel Level
    {
        get => _level;
        set
        {
            if (CanChange())
            {
                _level = value;
            }
        }
    }

    /// <summary>A short explanation of the level, typically the error message.</summary>
    public string? StatusMessage
    {
        get => _statusMessage;
        set
        {
            if (CanChange())
            {
                _statusMessage = value;
            }
        }
    }

    /// <summary>The version of the code or prompt behind this step.</summary>
    public string? Version
    {
        get => _version;
        set
        {
            if (CanChange())
            {
                _version = value;
            }
        }
    }

    /// <summary>The metadata set so far.</summary>
    public IReadOnlyDictionary<string, object?> Metadata => _metadata.ToDictionary();

    /// <summary>The exception recorded with <see cref="RecordException"/>, if any.</summary>
    public Exception? Exception => _exception;

    internal ulong SpanId { get; }

    internal LangfuseTracer Tracer => _tracer;

    internal ReadOnlySpan<KeyValuePair<string, object?>> MetadataItems => _metadata.Items;

    internal ulong ParentSpanId { get; }

    internal bool ParentIsRemote { get; }

    /// <summary>True when this observation started its trace in this process.</summary>
    internal bool IsLocalRoot => _root is null;

    /// <summary>Sets one metadata entry.</summary>
    /// <param name="key">The key; ignored when null.</param>
    /// <param name="value">Any JSON-serializable value.</param>
    /// <returns>This observation, for chaining.</returns>
    public LangfuseObservation SetMetadata(string key, object? value)
    {
        if (key is not null && CanChange())
        {
            _metadata.Set(key, value);
        }

        return this;
    }

    /// <summary>
    /// Records a failure: sets the level to <see cref="ObservationLevel.Error"/>, the status message to the exception's
    /// type and message, and keeps the exception (its stack trace is sent as an OpenTelemetry exception event).
    /// </summary>
    /// <param name="exception">The exception; ignored when null.</param>
    /// <returns>This observation, for chaining.</returns>
    public LangfuseObservation RecordException(Exception exception)
    {
        if (exception is not null && CanChange())
        {
            _exception = exception;
            _level = ObservationLevel.Error;
            _statusMessage = exception is OperationCanceledException
                ? $"Cancelled: {exception.Message}"
                : $"{exception.GetType().Name}: {exception.Message}";
        }

        return this;
    }

    /// <summary>Starts a child observation of any type; it becomes the current observation.</summary>
    /// <param name="name">The child's name.</param>
    /// <param name="type">The child's type.</param>
    /// <param name="input">The child's input, if known now.</param>
    /// <returns>The child; a <see cref="LangfuseGeneration"/> for generations and embeddings.</returns>
    public LangfuseObservation StartObservation(string name, ObservationType type = ObservationType.Span, object? input = null) =>
        _tracer.StartObservation(name, type, this, input);

    /// <summary>Starts a child span; it becomes the current observation.</summary>
    /// <param name="name">The child's name.</param>
    /// <param name="input">The child's input, if known now.</param>
    /// <returns>The child.</returns>
    public LangfuseObservation StartSpan(string name, object? input = null) =>
        _tracer.StartObservation(name, ObservationType.Span, this, input);

    /// <summary>Starts a child generation (a model call); it becomes the current observation.</summary>
    /// <param name="name">The child's name.</param>
    /// <param name="model">The model, if known now.</param>
    /// <param name="input">The prompt or messages, if known now.</param>
    /// <returns>The generation.</returns>
    public LangfuseGeneration StartGeneration(string name, string? model = null, object? input = null) =>
        _tracer.StartGeneration(name, model, input, this);

    /// <summary>Records a child event (a point in time) and returns it, already ended.</summary>
    /// <param name="name">The event's name.</param>
    /// <param name="input">What the event is about.</param>
    /// <param name="output">Its outcome.</param>
    /// <param name="level">Its severity.</param>
    /// <param name="metadata">Metadata of the event.</param>
    /// <returns>The event.</returns>
    public LangfuseObservation RecordEvent(string name, object? input = null, object? output = null, ObservationLevel level = ObservationLevel.Default, IReadOnlyDictionary<string, object?>? metadata = null) =>
        _tracer.RecordEvent(name, input, output, level, this, metadata);

    /// <summary>Scores this observation (numeric, boolean, categorical or text).</summary>
    /// <param name="name">The score's name.</param>
    /// <param name="value">The value; numbers and booleans convert implicitly.</param>
    /// <param name="comment">An optional comment.</param>
    /// <returns>The recorded score, or <see langword="null"/> when it was not recorded.</returns>
    public LangfuseScore? Score(string name, ScoreValue value, string? comment = null) =>
        _tracer.RecordScore(name, value, comment, traceId: TraceId, observationId: Id, sessionId: null, metadata: null, sampled: IsSampled);

    /// <summary>Scores this observation's trace as a whole.</summary>
    /// <param name="name">The score's name.</param>
    /// <param name="value">The value; numbers and booleans convert implicitly.</param>
    /// <param name="comment">An optional comment.</param>
    /// <returns>The recorded score, or <see langword="null"/> when it was not recorded.</returns>
    public LangfuseScore? ScoreTrace(string name, ScoreValue value, string? comment = null) =>
        _tracer.RecordScore(name, value, comment, traceId: TraceId, observationId: null, sessionId: null, metadata: null, sampled: IsSampled);

    /// <summary>Ends the observation now. Ending twice is harmless.</summary>
    public void End() => End(null);

    /// <summary>Ends the observation at a given time. Ending twice is harmless.</summary>
    /// <param name="endTime">The end time; <see langword="null"/> means now.</param>
    public void End(DateTimeOffset? endTime)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        _endTicks = endTime?.UtcTicks ?? (Type == ObservationType.Event ? _startTicks : _tracer.Now().UtcTicks);
        if (ReferenceEquals(ObservationContext.Current, this))
        {
            ObservationContext.Current = _previousCurrent;
        }

        _previousCurrent = null;

        // The trace's attributes are fixed here, with the observation: what is sent no longer depends on when the
        // batch is exported. One read of an immutable snapshot, no allocation.
        _tracer.OnEnded(new CompletedObservation(this, TraceIfCreated?.Attributes));
    }

    /// <summary>Ends the observation.</summary>
    public void Dispose()
    {
        End(null);
        GC.SuppressFinalize(this);
    }

    /// <summary>Ends the observation.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        End(null);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Type} {Name} ({Id})";

    internal void MakeCurrent()
    {
        _previousCurrent = ObservationContext.Current;
        ObservationContext.Current = this;
    }

    internal DateTimeOffset EndTimeUnchecked => new(_endTicks, TimeSpan.Zero);

    internal ulong TraceIdHigh { get; }

    internal ulong TraceIdLow { get; }

    /// <summary>The local root of this observation's trace (itself when it is one).</summary>
    internal LangfuseObservation Root => _root ?? this;

    /// <summary>The trace-level properties if anyone set them; null means defaults only (nothing allocated).</summary>
    internal LangfuseTrace? TraceIfCreated => (_root ?? this)._trace;

    internal int EstimateBytes()
    {
        var size = 200 + (_name.Length * 2);
        size += EstimateValue(_input) + EstimateValue(_output);
        foreach (var (key, value) in _metadata.Items)
        {
            size += (key.Length * 2) + EstimateValue(value);
        }

        return size + EstimateExtraBytes();
    }

    internal virtual int EstimateExtraBytes() => 0;

    /// <summary>Rough UTF-8 size for queue accounting: exact for strings, a nominal figure for other objects.</summary>
    internal static int EstimateValue(object? value) => value switch
    {
        null => 0,
        string s => s.Length * 2,
        _ => 256,
    };

    /// <summary>False once ended; changes after the end are ignored.</summary>
    private protected bool CanChange() => Volatile.Read(ref _ended) == 0;
}
