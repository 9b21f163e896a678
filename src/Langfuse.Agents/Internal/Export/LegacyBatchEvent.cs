namespace Langfuse.Agents.Internal.Export;

/// <summary>What a batch event was made from, so a 207 answer can be mapped back to the items.</summary>
internal enum LegacyEventKind
{
    /// <summary>A <c>trace-create</c> derived from the observations of one trace.</summary>
    Trace,

    /// <summary>An observation's <c>*-create</c> event.</summary>
    Observation,

    /// <summary>A <c>score-create</c> event.</summary>
    Score,
}

/// <summary>One event of a batch request.</summary>
/// <param name="EventId">The envelope id, which the 207 answer reports per event.</param>
/// <param name="Kind">What the event was made from.</param>
/// <param name="ItemIndex">
/// Index into the observations list (<see cref="LegacyEventKind.Observation"/>; for <see cref="LegacyEventKind.Trace"/>
/// the observation whose trace values were used) or into the scores list (<see cref="LegacyEventKind.Score"/>).
/// </param>
internal readonly record struct LegacyBatchEvent(string EventId, LegacyEventKind Kind, int ItemIndex);
