using System.Diagnostics;
using System.Reflection;
using Langfuse.Agents.Internal;
using Langfuse.Agents.Internal.Configuration;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Internal.Http;
using Langfuse.Agents.Internal.Pipeline;
using Langfuse.Agents.Internal.Timing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

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
    public static readonly string SdkVersion =
        typeof(LangfuseTracer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(LangfuseTracer).Assembly.GetName().Version?.ToString(3)
        ?? "0.0.0";

    private static readonly Lock DefaultGate = new();
    private static LangfuseTracer? s_default;

    private readonly TimeProvider _timeProvider;
    private readonly LangfuseMetrics _metrics = new();
    private readonly ExportPipeline? _pipeline;
    private readonly IDurableQueue? _durable;
    private readonly DurableForwarder? _forwarder;
    private readonly HttpClient? _ownedHttpClient;
    private readonly StderrLoggerFactory? _ownedLoggerFactory;
    private readonly LangfuseCapture? _capture;
    private readonly double _sampleRate;
    private readonly string? _environment;
    private readonly string? _release;
    private readonly bool _privacyMode;
    private readonly TimeSpan _shutdownTimeout;
    private int _disposed;
    private readonly Lock _shutdownGate = new();
    private Task<LangfuseFlushResult>? _shutdownTask;

    /// <summary>
    /// Creates a tracer from options. Values that cannot be used are replaced (and reported once); tracing is off only
    /// when it cannot work (no keys, an unusable base URL) or is disabled, and the first log line says so.
    /// </summary>
    /// <param name="options">The settings (see <see cref="LangfuseOptions.FromEnvironment()"/>).</param>
    /// <param name="loggerFactory">Where the SDK logs; without one, warnings go to standard error.</param>
    public LangfuseTracer(LangfuseOptions options, ILoggerFactory? loggerFactory = null)
        : this(options, loggerFactory, httpClient: null, timeProvider: null)
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
    {
        options = options?.Clone() ?? new LangfuseOptions();
        _timeProvider = timeProvider ?? TimeProvider.System;
        if (loggerFactory is null)
        {
            _ownedLoggerFactory = new StderrLoggerFactory(options.Debug);
            loggerFactory = _ownedLoggerFactory;
        }
        else
        {
            // The application's logs get no stack traces from the SDK unless LANGFUSE_DEBUG asks for them.
            loggerFactory = new QuietLoggerFactory(loggerFactory, options.Debug);
        }

        var logger = loggerFactory.CreateLogger(Log.CategoryName);
        SettingsReport settings;
        try
        {
            settings = LangfuseOptionsValidator.Normalize(options);
        }
        catch (Exception ex)
        {
            Log.LoopError(logger, ex);
            settings = new SettingsReport([], "its settings could not be checked");
        }

        if (settings.Replaced.Count > 0)
        {
            Log.SettingsReplaced(logger, settings.Replaced.Count, string.Join(" | ", settings.Replaced));
        }

        _capture = options.Capture;
        _sampleRate = double.IsFinite(options.SampleRate) ? Math.Clamp(options.SampleRate, 0, 1) : 1;
        _environment = options.Environment;
        _release = options.Release;
        _privacyMode = options.PrivacyMode;
        _shutdownTimeout = options.ShutdownTimeout;
        ServiceName = ResolveServiceName(options.ServiceName);

        try
        {
            if (settings.CannotWork is { } reason)
            {
                Log.TracingCannotWork(logger, reason);
                return;
            }

            if (!options.TracingEnabled)
            {
                Log.TracingOff(logger, "LANGFUSE_TRACING_ENABLED is false");
                return;
            }

            if (string.IsNullOrWhiteSpace(options.PublicKey) || string.IsNullOrWhiteSpace(options.SecretKey))
            {
                if (api is null)
                {
                    Log.TracingOff(logger, "LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not set");
                    return;
                }
            }

            if (api is null)
            {
                if (httpClient is null)
                {
                    _ownedHttpClient = new HttpClient(new SocketsHttpHandler
                    {
                        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                        ConnectTimeout = options.Timeout,
                    })
                    {
                        Timeout = Timeout.InfiniteTimeSpan, // the Polly pipeline owns timeouts
                    };
                    httpClient = _ownedHttpClient;
                }

                api = new LangfuseApiClient(httpClient, options.BaseUrl, options.PublicKey!, options.SecretKey!, _timeProvider);
            }

            var exportLogger = loggerFactory.CreateLogger(Log.ExportCategoryName);
            var shutdown = new ShutdownSignal();
            var resource = new OtlpResourceInfo(ServiceName, InstanceId, SdkVersion);
            var sender = new ResilientSender(options, _timeProvider, _metrics, exportLogger, shutdown, probe);
            var gate = new DeliveryGate(_timeProvider, exportLogger);
            if (options.BufferEnabled)
            {
                _durable = DurableQueueFactory.Open(options, _timeProvider, loggerFactory.CreateLogger(Log.BufferCategoryName), _metrics, durableFileSystem);
                if (_durable is { IsAvailable: true } durable)
                {
                    _metrics.Recovered(durable.BufferedItems);
                    _metrics.SetBufferedSource(() => durable.BufferedItems);
                    _forwarder = new DurableForwarder(durable, api, sender, gate, _metrics, exportLogger, _timeProvider, probe: probe);
                }
            }

            var exporter = new LangfuseExporter(
                api,
                options,
                new ObservationPreparer(options, exportLogger, _timeProvider),
                sender,
                resource,
                _metrics,
                exportLogger,
                _timeProvider,
                _durable,
                gate,
                _forwarder is { } forwarder ? forwarder.Wake : null);
            _pipeline = new ExportPipeline(options, exporter, _metrics, exportLogger, _timeProvider, shutdown, probe);
            _forwarder?.Start();
            Log.TracingOn(logger, Redaction.Url(options.BaseUrl), options.IngestionProtocol, _sampleRate);
        }
        catch (Exception ex)
        {
            // Never let the SDK's own start-up break the host.
            Log.LoopError(logger, ex);
            _pipeline = null;
        }
    }

    /// <summary>
    /// The process-wide tracer that <see cref="ObserveAttribute"/> uses. Under dependency injection it is the tracer
    /// <c>services.AddLangfuse()</c> registered (once the host has started); otherwise one configured from environment
    /// variables, created on first use, that flushes when the process exits within <see cref="LangfuseOptions.ShutdownTimeout"/>.
    /// </summary>
    public static LangfuseTracer Default
    {
        get
        {
            var current = Volatile.Read(ref s_default);
            if (current is not null)
            {
                return current;
            }

            lock (DefaultGate)
            {
                if (s_default is null)
                {
                    var tracer = new LangfuseTracer(LangfuseOptions.FromEnvironment());
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => tracer.ShutdownOnExit();
                    Volatile.Write(ref s_default, tracer);
                }

                return s_default;
            }
        }
    }

    /// <summary>The observation open in the current async flow, or <see langword="null"/>.</summary>
    public static LangfuseObservation? CurrentObservation => ObservationContext.Current;

    /// <summary>
    /// Makes a host's tracer the process-wide default when none exists yet, so [Observe] and code using
    /// <see cref="Default"/> share the configured tracer instead of creating a second one from the environment.
    /// The host flushes it; no process-exit handler is added.
    /// </summary>
    internal static bool TrySetDefault(LangfuseTracer tracer)
    {
        lock (DefaultGate)
        {
            if (s_default is not null)
            {
                return ReferenceEquals(s_default, tracer);
            }

            Volatile.Write(ref s_default, tracer);
            return true;
        }
    }

    /// <summary>Forgets a default set by <see cref="TrySetDefault"/> when its host stops with it.</summary>
    internal static void ClearDefault(LangfuseTracer tracer)
    {
        lock (DefaultGate)
        {
            if (ReferenceEquals(s_default, tracer))
            {
                Volatile.Write(ref s_default, null);
            }
        }
    }

    /// <summary>Whether this tracer sends to Langfuse (keys set, configuration valid, tracing enabled, not disposed).</summary>
    public bool IsExporting => _pipeline is not null && Volatile.Read(ref _disposed) == 0;

    /// <summary>The <c>service.name</c> this process reports.</summary>
    public string ServiceName { get; }

    /// <summary>The <c>service.instance.id</c> of this tracer: unique per process run.</summary>
    public string InstanceId { get; } = Guid.NewGuid().ToString();

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
        trace.Name = name;
        trace.SessionId = sessionId;
        trace.UserId = userId;
        var lineage = new ObservationLineage(high, low, Ids.NewSpanId(), 0, false, Ids.IsSampled(high, low, _sampleRate), Root: null, trace);
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
            : RecordScore(name, value, comment, traceId, observationId, null, metadata, Ids.IsSampled(traceId, _sampleRate));

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
        _pipeline?.FlushAsync(timeout ?? TimeSpan.FromSeconds(10), cancellationToken) ?? Task.FromResult(new LangfuseFlushResult { Completed = true });

    /// <summary>Stops accepting new items and sends what is queued, within <paramref name="timeout"/>. Never throws.</summary>
    /// <param name="timeout">The time budget; default <see cref="LangfuseOptions.ShutdownTimeout"/>.</param>
    /// <returns>
    /// What became of the queued items (delivered, kept on disk, dropped) and whether that finished within the budget.
    /// What waited on disk from before is then sent with the rest of the budget; it is not in the counts.
    /// </returns>
    public Task<LangfuseFlushResult> ShutdownAsync(TimeSpan? timeout = null)
    {
        lock (_shutdownGate)
        {
            return _shutdownTask ??= ShutdownCoreAsync(timeout ?? _shutdownTimeout);
        }
    }

    /// <summary>A snapshot of the counters published on the <c>Langfuse.Agents</c> meter.</summary>
    /// <returns>The counters now.</returns>
    public LangfuseStatistics GetStatistics() => _metrics.Snapshot();

    /// <summary>Flushes within <see cref="LangfuseOptions.ShutdownTimeout"/> and releases resources.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            Task.Run(() => ShutdownAsync()).Wait(_shutdownTimeout + TimeSpan.FromSeconds(1));
        }
        catch (Exception)
        {
            // Shutdown never throws by design; this only guards the wait itself.
        }

        Release();
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
        Release();
    }

    internal DateTimeOffset Now() => _timeProvider.GetUtcNow();

    /// <summary>Whether privacy mode is on: text stays out of what leaves the process, baggage included.</summary>
    internal bool PrivacyMode => _privacyMode;

    /// <summary>
    /// Sends what is queued, then (with what is left of the budget) what waits on disk, so a short run with a small
    /// backlog leaves nothing behind when Langfuse is up; when it is down, what was not sent stays on disk.
    /// </summary>
    private async Task<LangfuseFlushResult> ShutdownCoreAsync(TimeSpan budget)
    {
        if (_pipeline is null)
        {
            return new LangfuseFlushResult { Completed = true };
        }

        var started = _timeProvider.GetTimestamp();
        var result = await _pipeline.ShutdownAsync(budget).ConfigureAwait(false);
        if (_forwarder is not null)
        {
            var left = budget - _timeProvider.GetElapsedTime(started);
            if (left > TimeSpan.Zero && _durable is { Stats.Records: > 0 })
            {
                await _forwarder.DrainAsync(left).ConfigureAwait(false);
            }

            await _forwarder.DisposeAsync().ConfigureAwait(false);
        }

        _durable?.Dispose();
        return result;
    }


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
            Environment = _environment,
        };

        if (!sampled)
        {
            if (_pipeline is not null)
            {
                _metrics.Dropped(DropReason.SampledOut);
            }

            return score;
        }

        _capture?.Add(score);
        _pipeline?.TryEnqueue(score, score.EstimatedBytes);
        return score;
    }

    internal void OnEnded(LangfuseObservation observation)
    {
        _metrics.Ended();
        if (!observation.IsSampled)
        {
            if (_pipeline is not null)
            {
                _metrics.Dropped(DropReason.SampledOut);
            }

            return;
        }

        _capture?.Add(observation);
        _pipeline?.TryEnqueue(observation, observation.EstimateBytes());
    }

    internal LangfuseTrace CreateTrace(ulong high, ulong low) => new(high, low) { Environment = _environment, Release = _release };

    private LangfuseObservation CreateChild(string name, ObservationType type, LangfuseObservation? parent)
    {
        parent ??= ObservationContext.Current;
        if (parent is not null)
        {
            return Create(type, name, new ObservationLineage(
                parent.TraceIdHigh, parent.TraceIdLow, Ids.NewSpanId(), parent.SpanId, false, parent.IsSampled, parent.Root, Trace: null));
        }

        if (ObservationContext.RemoteParent is { IsValid: true } remote)
        {
            return CreateRemoteChild(name, type, remote);
        }

        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity
            && Ids.TryParseTraceId(activity.TraceId.ToHexString(), out var traceHigh, out var traceLow))
        {
            // Join the Activity's trace, but never parent on an Activity: Langfuse does not receive Activities, so that
            // parent would be missing. The outermost Activity of this process either continues a span of another process
            // (the inbound traceparent, which that process sends) or started the trace here (we become its root).
            var origin = activity;
            while (origin.Parent is { } parentActivity)
            {
                origin = parentActivity;
            }

            if (origin.ParentSpanId != default && Ids.TryParseSpanId(origin.ParentSpanId.ToHexString(), out var remoteSpan))
            {
                // The caller's W3C sampled flag wins, so a trace is kept or dropped whole.
                var sampled = origin.ActivityTraceFlags.HasFlag(ActivityTraceFlags.Recorded);
                return Create(type, name, new ObservationLineage(traceHigh, traceLow, Ids.NewSpanId(), remoteSpan, true, sampled, Root: null, Trace: null));
            }

            return Create(type, name, new ObservationLineage(
                traceHigh, traceLow, Ids.NewSpanId(), 0, false, Ids.IsSampled(traceHigh, traceLow, _sampleRate), Root: null, Trace: null));
        }

        var (high, low) = Ids.NewTraceId();
        return Create(type, name, new ObservationLineage(high, low, Ids.NewSpanId(), 0, false, Ids.IsSampled(high, low, _sampleRate), Root: null, Trace: null));
    }

    private LangfuseObservation CreateRemoteChild(string name, ObservationType type, in LangfuseTraceContext remote)
    {
        // What the caller propagated wins over this process's defaults (as in Langfuse's Python SDK): one trace, one
        // name, release and environment, whichever process an observation comes from. Code here may still change them.
        LangfuseTrace? trace = null;
        if (remote.SessionId is not null || remote.UserId is not null || remote.TraceName is not null || remote.Tags is { Count: > 0 }
            || remote.Version is not null || remote.Release is not null || remote.Environment is not null || remote.Metadata is { Count: > 0 })
        {
            trace = CreateTrace(remote.TraceIdHigh, remote.TraceIdLow);
            trace.SessionId = remote.SessionId;
            trace.UserId = remote.UserId;
            trace.Name = remote.TraceName;
            trace.Version = remote.Version;
            trace.Release = remote.Release ?? trace.Release;
            trace.Environment = remote.Environment ?? trace.Environment;
            if (remote.Tags is { Count: > 0 } tags)
            {
                trace.Tags = tags;
            }

            if (remote.Metadata is { } metadata)
            {
                foreach (var (key, value) in metadata)
                {
                    trace.SetMetadata(key, value);
                }
            }
        }

        return Create(type, name, new ObservationLineage(
            remote.TraceIdHigh, remote.TraceIdLow, Ids.NewSpanId(), remote.ParentSpanId, true, remote.IsSampled, Root: null, trace));
    }

    private LangfuseObservation Create(ObservationType type, string name, in ObservationLineage lineage)
    {
        _metrics.Started();
        name = string.IsNullOrEmpty(name) ? type.ToString().ToLowerInvariant() : name;
        var now = Now();
        return type is ObservationType.Generation or ObservationType.Embedding
            ? new LangfuseGeneration(this, type, name, lineage, now)
            : new LangfuseObservation(this, type, name, lineage, now);
    }

    private void ShutdownOnExit()
    {
        try
        {
            Task.Run(() => ShutdownAsync()).Wait(_shutdownTimeout + TimeSpan.FromSeconds(1));
        }
        catch (Exception)
        {
            // The process is exiting; there is nobody left to tell.
        }
    }

    private void Release()
    {
        _ownedHttpClient?.Dispose();
        _ownedLoggerFactory?.Dispose();
        _metrics.Dispose();
    }

    private sealed class RemoteParentScope(LangfuseTraceContext previous) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                ObservationContext.RemoteParent = previous;
            }
        }
    }

    private static string ResolveServiceName(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var entry = Assembly.GetEntryAssembly()?.GetName().Name;
        return string.IsNullOrEmpty(entry) ? "unknown_service:dotnet" : entry;
    }
}
