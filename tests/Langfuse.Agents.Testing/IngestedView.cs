namespace Langfuse.Agents.Testing;

/// <summary>What Langfuse would show for a set of accepted requests: traces, observation rows and its own warnings.</summary>
/// <param name="Traces">One per trace id that Langfuse would list.</param>
/// <param name="Observations">Every observation row, in the order the spans or events arrived.</param>
/// <param name="Warnings">What Langfuse's ingestion would log as a warning (for example a usage total that does not add up).</param>
public sealed record IngestedView(IReadOnlyList<IngestedTrace> Traces, IReadOnlyList<IngestedObservation> Observations, IReadOnlyList<string> Warnings)
{
    /// <summary>The trace with <paramref name="traceId"/>.</summary>
    /// <exception cref="InvalidOperationException">Langfuse would show no such trace.</exception>
    public IngestedTrace Trace(string traceId) =>
        Traces.SingleOrDefault(t => t.Id == traceId) ?? throw new InvalidOperationException($"No trace {traceId}; traces: {string.Join(", ", Traces)}");

    /// <summary>The observation rows of one trace.</summary>
    public IReadOnlyList<IngestedObservation> ObservationsOf(string traceId) => [.. Observations.Where(o => o.TraceId == traceId)];
}
