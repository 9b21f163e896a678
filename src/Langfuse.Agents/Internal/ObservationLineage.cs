namespace Langfuse.Agents.Internal;

/// <summary>Where a new observation sits: its ids, its parent, its trace's local root and sampling decision.</summary>
/// <param name="TraceIdHigh">High 64 bits of the W3C trace id.</param>
/// <param name="TraceIdLow">Low 64 bits of the W3C trace id.</param>
/// <param name="SpanId">The new observation's span id.</param>
/// <param name="ParentSpanId">The parent's span id, 0 for none.</param>
/// <param name="ParentIsRemote">True when the parent lives in another process.</param>
/// <param name="Sampled">Whether the trace is kept.</param>
/// <param name="Root">The local root of the trace, or null when the new observation is that root.</param>
/// <param name="Trace">Trace-level properties already set, or null to create them on first use.</param>
internal readonly record struct ObservationLineage(
    ulong TraceIdHigh,
    ulong TraceIdLow,
    ulong SpanId,
    ulong ParentSpanId,
    bool ParentIsRemote,
    bool Sampled,
    LangfuseObservation? Root,
    LangfuseTrace? Trace);
