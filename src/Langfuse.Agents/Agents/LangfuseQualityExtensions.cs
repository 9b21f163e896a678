namespace Langfuse.Agents;

/// <summary>
/// Records boolean quality facts (schema valid, tool succeeded, latency within threshold...) as Langfuse
/// <c>BOOLEAN</c> scores, on an observation or on its whole trace. Langfuse charts their share of true over time
/// and filters observations and traces by them.
/// </summary>
public static class LangfuseQualityExtensions
{
    /// <summary>Records a boolean fact about this observation as a <c>BOOLEAN</c> score named <paramref name="signal"/>.</summary>
    /// <param name="observation">The observation the fact is about.</param>
    /// <param name="signal">The signal's name, for example <see cref="QualitySignals.SchemaValid"/>.</param>
    /// <param name="value">The fact.</param>
    /// <param name="comment">An optional comment (dropped in privacy mode).</param>
    /// <returns>The score, or <see langword="null"/> when it was not recorded (empty name).</returns>
    public static LangfuseScore? RecordQuality(this LangfuseObservation observation, string signal, bool value, string? comment = null)
    {
        ArgumentNullException.ThrowIfNull(observation);
        return observation.Score(signal, ScoreValue.Boolean(value), comment);
    }

    /// <summary>Records a boolean fact about the observation's whole trace as a <c>BOOLEAN</c> trace score.</summary>
    /// <param name="observation">Any observation of the trace.</param>
    /// <param name="signal">The signal's name, for example <c>answer_grounded</c>.</param>
    /// <param name="value">The fact.</param>
    /// <param name="comment">An optional comment (dropped in privacy mode).</param>
    /// <returns>The score, or <see langword="null"/> when it was not recorded.</returns>
    public static LangfuseScore? RecordTraceQuality(this LangfuseObservation observation, string signal, bool value, string? comment = null)
    {
        ArgumentNullException.ThrowIfNull(observation);
        return observation.ScoreTrace(signal, ScoreValue.Boolean(value), comment);
    }

    /// <summary>
    /// Records whether the observation took at most <paramref name="threshold"/>: the <c>BOOLEAN</c> score
    /// <c>latency_within_threshold</c>, with metadata <c>latency_ms</c> and <c>threshold_ms</c>. Call it after the
    /// observation ended for its exact duration; while it is open the time so far is used.
    /// </summary>
    /// <param name="observation">The observation to judge.</param>
    /// <param name="threshold">The latency budget.</param>
    /// <returns>The score, or <see langword="null"/> when it was not recorded.</returns>
    public static LangfuseScore? RecordLatencyWithin(this LangfuseObservation observation, TimeSpan threshold)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var latency = (observation.EndTime ?? observation.Tracer.Now()) - observation.StartTime;
        var metadata = new Dictionary<string, object?>(2, StringComparer.Ordinal)
        {
            ["latency_ms"] = Math.Round(latency.TotalMilliseconds, 3),
            ["threshold_ms"] = Math.Round(threshold.TotalMilliseconds, 3),
        };
        var within = latency <= threshold;
        return observation.Tracer.RecordScore(
            QualitySignals.LatencyWithinThreshold,
            ScoreValue.Boolean(within),
            comment: null,
            traceId: observation.TraceId,
            observationId: observation.Id,
            sessionId: null,
            metadata: metadata,
            sampled: observation.IsSampled);
    }
}
