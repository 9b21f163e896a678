namespace Langfuse.Agents.Internal.Pipeline;

/// <summary>One queued item: an ended observation with its trace attributes as they were then, or a score.</summary>
internal readonly struct ExportItem
{
    public ExportItem(in CompletedObservation observation)
    {
        Observation = observation.Observation;
        Trace = observation.Trace;
        Score = null;
    }

    public ExportItem(LangfuseScore score)
    {
        Observation = null;
        Trace = null;
        Score = score;
    }

    /// <summary>The ended observation, or null for a score.</summary>
    public LangfuseObservation? Observation { get; }

    /// <summary>The trace's attributes when <see cref="Observation"/> ended (null: defaults only).</summary>
    public LangfuseTraceAttributes? Trace { get; }

    /// <summary>The score, or null for an observation.</summary>
    public LangfuseScore? Score { get; }

    /// <summary>The observation as processors saw it; only when <see cref="Observation"/> is set.</summary>
    public CompletedObservation Completed => new(Observation!, Trace);
}
