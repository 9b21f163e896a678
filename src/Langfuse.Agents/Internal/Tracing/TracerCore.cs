using System.Diagnostics;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Pipeline;

namespace Langfuse.Agents.Internal.Tracing;

/// <summary>
/// What a <see cref="LangfuseTracer"/> runs on: its settings, clock, counters, the path an ended observation or a
/// score takes (sampling, capture, export) and the resources it owns. Built only by <see cref="TracerCoreBuilder"/>,
/// so <c>new LangfuseTracer(options)</c> and <c>AddLangfuse()</c> get the same thing.
/// </summary>
internal sealed class TracerCore
{
    public required TimeProvider TimeProvider { get; init; }

    public required LangfuseMetrics Metrics { get; init; }

    /// <summary>The queue and its reader; null when tracing is off (no keys, disabled, unusable settings).</summary>
    public ExportPipeline? Pipeline { get; init; }

    public required TracerShutdown Shutdown { get; init; }

    /// <summary>The head-sampling rate, in [0, 1].</summary>
    public required double SampleRate { get; init; }

    public string? Environment { get; init; }

    public string? Release { get; init; }

    /// <summary>Whether privacy mode is on: text stays out of what leaves the process, baggage included.</summary>
    public bool PrivacyMode { get; init; }

    public required string ServiceName { get; init; }

    public required string InstanceId { get; init; }

    /// <summary>What the core disposes when the tracer is released (an HttpClient it created, its own logger factory).</summary>
    public IReadOnlyList<IDisposable> Owned { get; init; } = [];

    public DateTimeOffset Now() => TimeProvider.GetUtcNow();

    public LangfuseTrace CreateTrace(ulong high, ulong low) => new(high, low, Environment, Release);

    /// <summary>
    /// Where a new observation sits: a child of <paramref name="parent"/>, else of the current observation, else of the
    /// caller's span that ContinueTrace set, else in <see cref="Activity.Current"/>'s trace, else the root of a new trace.
    /// </summary>
    public ObservationLineage ChildLineage(LangfuseObservation? parent)
    {
        parent ??= ObservationContext.Current;
        if (parent is not null)
        {
            return new ObservationLineage(
                parent.TraceIdHigh, parent.TraceIdLow, Ids.NewSpanId(), parent.SpanId, false, parent.IsSampled, parent.Root, Trace: null);
        }

        if (ObservationContext.RemoteParent is { IsValid: true } remote)
        {
            return RemoteLineage(remote);
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
                return new ObservationLineage(traceHigh, traceLow, Ids.NewSpanId(), remoteSpan, true, sampled, Root: null, Trace: null);
            }

            return new ObservationLineage(
                traceHigh, traceLow, Ids.NewSpanId(), 0, false, Ids.IsSampled(traceHigh, traceLow, SampleRate), Root: null, Trace: null);
        }

        var (high, low) = Ids.NewTraceId();
        return new ObservationLineage(high, low, Ids.NewSpanId(), 0, false, Ids.IsSampled(high, low, SampleRate), Root: null, Trace: null);
    }

    /// <summary>Where a child of a caller's span in another process sits, with the trace attributes the caller propagated.</summary>
    public ObservationLineage RemoteLineage(in LangfuseTraceContext remote)
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

        return new ObservationLineage(
            remote.TraceIdHigh, remote.TraceIdLow, Ids.NewSpanId(), remote.ParentSpanId, true, remote.IsSampled, Root: null, trace);
    }

    /// <summary>Sampling, the user's processors, capture and export, in that order.</summary>
    public required ProcessorChain Processors { get; init; }

    /// <summary>An ended observation: counted, then through the processors (sampling first).</summary>
    public void OnEnded(in CompletedObservation observation)
    {
        Metrics.Ended();
        Processors.OnEnd(in observation);
    }

    /// <summary>A valid score: dropped when its trace is sampled out, else through the processors.</summary>
    public void OnScore(LangfuseScore score, bool sampled)
    {
        if (!sampled)
        {
            if (Pipeline is not null)
            {
                Metrics.Dropped(DropReason.SampledOut);
            }

            return;
        }

        Processors.OnScore(score);
    }

    /// <summary>Disposes what the core owns, once, after shutdown.</summary>
    public void ReleaseResources()
    {
        foreach (var owned in Owned)
        {
            owned.Dispose();
        }

        Metrics.Dispose();
    }
}
