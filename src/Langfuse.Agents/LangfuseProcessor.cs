namespace Langfuse.Agents;

/// <summary>
/// A step every ended observation and every score passes through, after sampling and before the SDK captures and
/// exports it: the extension point for viewers, bridges and filters. Add one to <see cref="LangfuseOptions.Processors"/>.
/// </summary>
/// <remarks>
/// Processors run in order on the thread that ended the observation (or recorded the score), so keep them quick and
/// hand slow work to a queue of your own. Return <see langword="false"/> to stop an item here: it is then counted as
/// <see cref="DropReason.SampledOut"/> and neither captured nor sent. A processor that throws is logged and skipped;
/// the item goes on.
/// </remarks>
public abstract class LangfuseProcessor
{
    /// <summary>Sees an ended observation of a sampled trace.</summary>
    /// <param name="observation">The observation and its trace's attributes as they were when it ended.</param>
    /// <returns><see langword="true"/> to pass it on; <see langword="false"/> to drop it.</returns>
    public virtual bool OnEnd(in CompletedObservation observation) => true;

    /// <summary>Sees a valid score of a sampled trace (or of a session).</summary>
    /// <param name="score">The score.</param>
    /// <returns><see langword="true"/> to pass it on; <see langword="false"/> to drop it.</returns>
    public virtual bool OnScore(LangfuseScore score) => true;
}
