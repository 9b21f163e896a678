using System.Diagnostics;
using Langfuse.Agents.Internal;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Http;
using Langfuse.Agents.Internal.Timing;
using Langfuse.Agents.Internal.Tracing;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents;

/// <summary>
/// The entry point: starts traces and observations, records scores, and owns the background pipeline that
/// delivers them to Langfuse. Create one per process (or use <see cref="Default"/>, or <c>services.AddLangfuse()</c>).
/// </summary>
/// <remarks>
/// Nothing here throws into your code or blocks it: a setting that cannot be used is replaced and reported once,
/// a full queue drops (and counts) new items, and a slow or absent Langfuse only costs the background thread.
/// </remarks>
public sealed class LangfuseTracer : IDisposable, IAsyncDisposable
{
    /// <summary>The SDK's version, sent as <c>x-langfuse-sdk-version</c>.</summary>
    public static readonly string SdkVersion = TracerCoreBuilder.SdkVersion;

    private readonly TracerCore _core;
    private int _disposed;

    /// <summary>
    /// Creates a tracer from options. Values that cannot be used are replaced (and reported once); tracing is off only
    /// when it cannot work (no keys, an unusable base URL) or is disabled, and the first log line says so.
    /// </summary>
    /// <param name="options">The settings (see <see cref="LangfuseOptions.FromEnvironment()"/>).</param>
    /// <param name="loggerFactory">Where the SDK logs; without one, warnings go to standard error.</param>
    public LangfuseTracer(LangfuseOptions options, ILoggerFactory? loggerFactory = null)
        : this(new TracerCoreBuilder(options) { LoggerFactory = loggerFactory }.Build())
    {
    }

    internal LangfuseTracer(
        LangfuseOptions options,
        ILoggerFactory? loggerFactory,
        HttpClient? httpClient,
        TimeProvider? timeProvider,
        ILangfuseApi? api = null,
        IDurableFileSystem? durableFileSystem = null,
        IdleProbe? probe = null)
        : this(new TracerCoreBuilder(options)
        {
            LoggerFactory = loggerFactory,
            HttpClient = httpClient,
            TimeProvider = timeProvider,
            Api = api,
            DurableFileSystem = durableFileSystem,
            Probe = probe,
        }.Build())
    {
    }

    /// <summary>Wraps a core built by <see cref="TracerCoreBuilder"/> (the one way a tracer is made).</summary>
    internal LangfuseTracer(TracerCore core)
    {
        _core = core;
    }

    /// <summary>
    /// The process-wide tracer that <see cref="ObserveAttribute"/> uses. Under dependency injection it is the tracer
    /// <c>services.AddLangfuse()</c> registered (once the host has started); otherwise one configured from environment
    /// variables, created on first use, that flushes when the process exits within <see cref="LangfuseOptions.ShutdownTimeout"/>.
    /// </summary>
    public static LangfuseTracer Default => AmbientTracer.Default;

    /// <summary>The observation open in the current async flow, or <see langword="null"/>.</summary>
    public static LangfuseObservation? CurrentObservation => ObservationContext.Current;

    /// <summary>Makes a host's tracer the process-wide default when none exists yet (see <see cref="AmbientTracer"/>).</summary>
    internal static bool TrySetDefault(LangfuseTracer tracer) => AmbientTracer.TrySet(tracer);

    /// <summary>Forgets a default set by <see cref="TrySetDefault"/> when its host stops with it.</summary>
    internal static void ClearDefault(LangfuseTracer tracer) => AmbientTracer.Clear(tracer);

    /// <summary>The core this façade runs on.</summary>
    internal TracerCore Core => _core;

    /// <summary>Whether this tracer sends to Langfuse (keys set, configuration valid, tracing enabled, not disposed).</summary>
    public bool IsExporting => _core.Pipeline is not null && Volatile.Read(ref _disposed) == 0;

    /// <summary>The <c>service.name</c> this process reports.</summary>
    public string ServiceName => _core.ServiceName;

    /// <summary>The <c>service.instance.id</c> of this tracer: unique per process run.</summary>
    public string InstanceId => _core.InstanceId;

    /// <summary>
    /// Starts a new trace: its root observation (a span) becomes the current observation, and the trace gets
    /// <paramref name="name"/>, <paramref name="sessionId"/> and <paramref name="userId"/>.
    /// </summary>
    /// <param name="name">The trace's (and root observation's) name.</param>
    /// <param name="sessionId">Groups traces into a session, for example a conversation.</param>
    /// <param name="userId">The end user.</param>
    /// <param name="input">The root's input, if known now.</param>
    /// <returns>The root observation; dispose it to end the trace's root.</returns>
    public LangfuseObservation StartTrace(string name, string? sessionId = null, string? userId = null, object? input = null)
    {
        var (high, low) = Ids.NewTraceId();
        var trace = CreateTrace(high, low);
        trace.Initialize(name, sessionId, userId);
        var lineage = new ObservationLineage(high, low, Ids.NewSpanId(), 0, false, Ids.IsSampled(high, low, _core.SampleRate), Root: null, trace);
        var root = Create(ObservationType.Span, name, lineage);
        root.Input = input;
        root.MakeCurrent();
        return root;
    }

    /// <summary>
    /// Starts an observation of any type as a child of <paramref name="parent"/>, else of the current observation,
    /// else of the caller's span that <see cref="ContinueTrace"/> set, else in <see cref="Activity.Current"/>'s trace
    /// (as a child of the span that trace continues from another process, or as its root: never of an Activity
    /// itself, which Langfuse does not receive), else as the root of a new trace.
    /// It becomes the current observation until it ends.
    /// </summary>
    /// <param name="name">The observation's name.</param>
    /// <param name="type">Its type.</param>
    /// <param name="parent">An explicit parent, overriding the current observation.</param>
    /// <param name="input">Its input, if known now.</param>
    /// <returns>The observation; a <see cref="LangfuseGeneration"/> for generations and embeddings.</returns>
    public LangfuseObservation StartObservation(string name, ObservationType type = ObservationType.Span, LangfuseObservation? parent = null, object? input = null)
    {
        var observation = CreateChild(name, type, parent);
        observation.Input = input;
        if (type != ObservationType.Event)
        {
            observation.MakeCurrent();
        }

        return observation;
    }

    /// <summary>
    /// Starts an observation as a child of a caller's span in another process (see <see cref="LangfuseTraceContext"/>):
    /// it joins the caller's trace, follows the caller's sampling decision, and takes the session and user ids the
    /// caller sent in baggage. It becomes the current observation until it ends. An invalid context starts a new trace.
    /// </summary>
    /// <param name="name">The observation's name.</param>
    /// <param name="type">Its type.</param>
    /// <param name="parent">The caller's trace context, for example from <see cref="LangfuseTraceContext.TryParse"/>.</param>
    /// <param name="input">Its input, if known now.</param>
    /// <returns>The observation; a <see cref="LangfuseGeneration"/> for generations and embeddings.</returns>
    public LangfuseObservation StartObservation(string name, ObservationType type, LangfuseTraceContext parent, object? input = null)
    {
        var observation = parent.IsValid ? CreateRemoteChild(name, type, parent) : CreateChild(name, type, null);
        observation.Input = input;
        if (type != ObservationType.Event)
        {
            observation.MakeCurrent();
        }

        return observation;
    }

    /// <summary>
    /// Makes observations started in the current async flow, while no observation is current, children of a caller's
    /// span in another process, until the returned scope is disposed. This is what an HTTP server does per request
    /// (<c>app.UseLangfuseTraceContext()</c>); it wins over <see cref="Activity.Current"/>, whose server span Langfuse
    /// never receives. An invalid context clears it for the scope.
    /// </summary>
    /// <param name="context">The caller's trace context.</param>
    /// <returns>A scope that restores the previous context when disposed.</returns>
    public static IDisposable ContinueTrace(LangfuseTraceContext context)
    {
        var scope = new RemoteParentScope(ObservationContext.RemoteParent);
        ObservationContext.RemoteParent = context;
        return scope;
    }

    /// <summary>Starts a span (see <see cref="StartObservation(string, ObservationType, LangfuseObservation?, object?)"/>).</summary>
    /// <param name="name">The span's name.</param>
    /// <param name="input">Its input, if known now.</param>
    /// <returns>The span.</returns>
    public LangfuseObservation StartSpan(string name, object? input = null) => StartObservation(name, ObservationType.Span, null, input);

    /// <summary>Starts an agent observation (see <see cref="StartObservation(string, ObservationType, LangfuseObservation?, object?)"/>).</summary>
    /// <param name="name">The agent's name.</param>
    /// <param name="input">The task it was given.</param>
    /// <returns>The agent observation.</returns>
    public LangfuseObservation StartAgent(string name, object? input = null) => StartObservation(name, ObservationType.Agent, null, input);

    /// <summary>Starts a tool observation (see <see cref="StartObservation(string, ObservationType, LangfuseObservation?, object?)"/>).</summary>
    /// <param name="name">The tool's name.</param>
    /// <param name="input">The tool's arguments.</param>
    /// <returns>The tool observation.</returns>
    public LangfuseObservation StartTool(string name, object? input = null) => StartObservation(name, ObservationType.Tool, null, input);

    /// <summary>Starts a generation: a model call with model, usage, cost and time to first token.</summary>
    /// <param name="name">The generation's name.</param>
    /// <param name="model">The model, if known now.</param>
    /// <param name="input">The prompt or messages.</param>
    /// <param name="parent">An explicit parent, overriding the current observation.</param>
    /// <returns>The generation.</returns>
    public LangfuseGeneration StartGeneration(string name, string? model = null, object? input = null, LangfuseObservation? parent = null)
    {
        var generation = (LangfuseGeneration)StartObservation(name, ObservationType.Generation, parent, input);
        generation.Model = model;
        return generation;
    }

    /// <summary>Records an event (a point in time, such as a routing decision) under the current observation; it is ended at once.</summary>
    /// <param name="name">The event's name.</param>
    /// <param name="input">What the event is about.</param>
    /// <param name="output">Its outcome.</param>
    /// <param name="level">Its severity.</param>
    /// <param name="parent">An explicit parent, overriding the current observation.</param>
    /// <param name="metadata">Metadata of the event, such as a reason code or a confidence.</param>
    /// <returns>The ended event, for inspection.</returns>
    public LangfuseObservation RecordEvent(
        string name,
        object? input = null,
        object? output = null,
        ObservationLevel level = ObservationLevel.Default,
        LangfuseObservation? parent = null,
        IReadOnlyDictionary<string, object?>? metadata = null)
    {
        var observation = CreateChild(name, ObservationType.Event, parent);
        observation.Input = input;
        observation.Output = output;
        observation.Level = level;
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                observation.SetMetadata(key, value);
            }
        }

        observation.End();
        return observation;
    }

    /// <summary>Scores a trace, or one observation of it.</summary>
    /// <param name="traceId">The trace id.</param>
    /// <param name="name">The score's name.</param>
    /// <param name="value">The value; numbers and booleans convert implicitly.</param>
    /// <param name="comment">An optional comment.</param>
    /// <param name="observationId">The observation within the trace, if the score targets one.</param>
    /// <param name="metadata">Optional metadata.</param>
    /// <returns>The recorded score, or <see langword="null"/> when the input was invalid (logged) .</returns>
    public LangfuseScore? ScoreTrace(string traceId, string name, ScoreValue value, string? comment = null, string? observationId = null, IReadOnlyDictionary<string, object?>? metadata = null) =>
        string.IsNullOrWhiteSpace(traceId)
            ? null
            : RecordScore(name, value, comment, traceId, observationId, null, metadata, Ids.IsSampled(traceId, _core.SampleRate));

    /// <summary>Scores a session (all traces that share a session id).</summary>
    /// <param name="sessionId">The session id.</param>
    /// <param name="name">The score's name.</param>
    /// <param name="value">The value; numbers and booleans convert implicitly.</param>
    /// <param name="comment">An optional comment.</param>
    /// <param name="metadata">Optional metadata.</param>
    /// <returns>The recorded score, or <see langword="null"/> when the input was invalid.</returns>
    public LangfuseScore? ScoreSession(string sessionId, string name, ScoreValue value, string? comment = null, IReadOnlyDictionary<string, object?>? metadata = null) =>
        string.IsNullOrWhiteSpace(sessionId) ? null : RecordScore(name, value, comment, null, null, sessionId, metadata, sampled: true);

    /// <summary>Sends everything recorded so far. Never throws.</summary>
    /// <param name="timeout">The most time to wait; default 10 seconds.</param>
    /// <param name="cancellationToken">Stops waiting (the send goes on in the background).</param>
    /// <returns>
    /// What became of what the flush handled: delivered, kept on disk for later, dropped; and whether it finished in
    /// time. <see cref="LangfuseFlushResult.AllDelivered"/> is true only when everything reached Langfuse.
    /// </returns>
    public Task<LangfuseFlushResult> FlushAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _core.Pipeline?.FlushAsync(timeout ?? TimeSpan.FromSeconds(10), cancellationToken) ?? Task.FromResult(new LangfuseFlushResult { Completed = true });

    /// <summary>Stops accepting new items and sends what is queued, within <paramref name="timeout"/>. Never throws.</summary>
    /// <param name="timeout">The time budget; default <see cref="LangfuseOptions.ShutdownTimeout"/>.</param>
    /// <returns>
    /// What became of the queued items (delivered, kept on disk, dropped) and whether that finished within the budget.
    /// What waited on disk from before is then sent with the rest of the budget; it is not in the counts.
    /// </returns>
    public Task<LangfuseFlushResult> ShutdownAsync(TimeSpan? timeout = null) => _core.Shutdown.RunAsync(timeout);

    /// <summary>A snapshot of the counters published on the <c>Langfuse.Agents</c> meter.</summary>
    /// <returns>The counters now.</returns>
    public LangfuseStatistics GetStatistics() => _core.Metrics.Snapshot();

    /// <summary>Flushes within <see cref="LangfuseOptions.ShutdownTimeout"/> and releases resources.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _core.Shutdown.WaitOnExit();
        _core.ReleaseResources();
    }

    /// <summary>Flushes within <see cref="LangfuseOptions.ShutdownTimeout"/> and releases resources.</summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await ShutdownAsync().ConfigureAwait(false);
        _core.ReleaseResources();
    }

    internal DateTimeOffset Now() => _core.Now();

    /// <summary>Whether privacy mode is on: text stays out of what leaves the process, baggage included.</summary>
    internal bool PrivacyMode => _core.PrivacyMode;

    internal LangfuseScore? RecordScore(
        string name,
        ScoreValue value,
        string? comment,
        string? traceId,
        string? observationId,
        string? sessionId,
        IReadOnlyDictionary<string, object?>? metadata,
        bool sampled)
    {
        if (string.IsNullOrWhiteSpace(name)
            || (value.DataType == ScoreDataType.Numeric && !double.IsFinite(value.Number))
            || (value.DataType is ScoreDataType.Categorical or ScoreDataType.Text && string.IsNullOrEmpty(value.Text)))
        {
            return null;
        }

        if (value.DataType == ScoreDataType.Text && value.Text!.Length > 500)
        {
            value = ScoreValue.FromText(value.Text[..500]); // Langfuse rejects text scores above 500 characters
        }

        var score = new LangfuseScore(Guid.NewGuid().ToString(), name, value, Now())
        {
            Comment = comment,
            TraceId = traceId,
            ObservationId = traceId is null ? null : observationId,
            SessionId = sessionId,
            Metadata = metadata,
            Environment = _core.Environment,
        };

        _core.OnScore(score, sampled);
        return score;
    }

    internal void OnEnded(in CompletedObservation observation) => _core.OnEnded(in observation);

    internal LangfuseTrace CreateTrace(ulong high, ulong low) => _core.CreateTrace(high, low);

    private LangfuseObservation CreateChild(string name, ObservationType type, LangfuseObservation? parent) =>
        Create(type, name, _core.ChildLineage(parent));

    private LangfuseObservation CreateRemoteChild(string name, ObservationType type, in LangfuseTraceContext remote) =>
        Create(type, name, _core.RemoteLineage(remote));

    private LangfuseObservation Create(ObservationType type, string name, in ObservationLineage lineage)
    {
        _core.Metrics.Started();
        name = string.IsNullOrEmpty(name) ? type.ToString().ToLowerInvariant() : name;
        var now = Now();
        return type is ObservationType.Generation or ObservationType.Embedding
            ? new LangfuseGeneration(this, type, name, lineage, now)
            : new LangfuseObservation(this, type, name, lineage, now);
    }
}
