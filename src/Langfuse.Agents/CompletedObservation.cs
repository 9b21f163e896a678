namespace Langfuse.Agents;

/// <summary>
/// An observation as it ended: the frozen observation (every setter is ignored once it has ended) and its trace's
/// attributes as they were at that moment. This is what processors see and what is queued for export.
/// </summary>
/// <remarks>
/// A struct around the observation itself rather than a copy of its fields: ending an observation must cost the
/// caller no allocation beyond the observation (see bench/RESULTS.md), and the observation no longer changes.
/// </remarks>
public readonly struct CompletedObservation
{
    internal CompletedObservation(LangfuseObservation observation, LangfuseTraceAttributes? trace)
    {
        Observation = observation;
        Trace = trace;
    }

    /// <summary>The ended observation; read-only from here on (a <see cref="LangfuseGeneration"/> for generations and embeddings).</summary>
    public LangfuseObservation Observation { get; }

    /// <summary>
    /// The trace's attributes when the observation ended, or <see langword="null"/> when nobody set any (the tracer's
    /// environment and release then apply).
    /// </summary>
    public LangfuseTraceAttributes? Trace { get; }
}
