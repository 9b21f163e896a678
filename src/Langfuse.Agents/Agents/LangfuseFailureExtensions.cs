namespace Langfuse.Agents;

/// <summary>
/// Records failures with a small taxonomy (<see cref="FailureType"/> and <see cref="FailureCode"/>) on the observation
/// that failed, so Langfuse can filter them (level <c>ERROR</c>, metadata <c>failure.type</c> and <c>failure.code</c>)
/// and chart them (a categorical <c>failure</c> score).
/// </summary>
public static class LangfuseFailureExtensions
{
    /// <summary>
    /// Marks the observation as failed: level <c>ERROR</c>; status message <c>type/code: message</c> (for example
    /// <c>tool/timeout: search took 30 s</c>); metadata <c>failure.type</c> and <c>failure.code</c>; the exception, if
    /// any, with its stack trace; and, unless <paramref name="score"/> is false, a <c>CATEGORICAL</c> score named
    /// <c>failure</c> valued <c>type/code</c> on the observation. Ignored once the observation has ended.
    /// </summary>
    /// <param name="observation">The observation that failed.</param>
    /// <param name="type">Which part failed.</param>
    /// <param name="code">What went wrong.</param>
    /// <param name="message">A short explanation; defaults to the exception's message.</param>
    /// <param name="exception">The exception behind the failure, if any.</param>
    /// <param name="score">Whether to also record the <c>failure</c> score (default true).</param>
    /// <returns>The observation, for chaining.</returns>
    public static LangfuseObservation RecordFailure(
        this LangfuseObservation observation,
        FailureType type,
        FailureCode code,
        string? message = null,
        Exception? exception = null,
        bool score = true)
    {
        if (observation is null || observation.IsEnded)
        {
            return observation!;
        }

        if (exception is not null)
        {
            observation.RecordException(exception);
        }

        var label = Label(type, code);
        message ??= exception?.Message;
        observation.Level = ObservationLevel.Error;
        observation.StatusMessage = string.IsNullOrEmpty(message) ? label : $"{label}: {message}";
        observation
            .SetMetadata(AgentMetadataKeys.FailureType, ToWire(type))
            .SetMetadata(AgentMetadataKeys.FailureCode, code.Value);
        if (score)
        {
            observation.Score(AgentScoreNames.Failure, ScoreValue.Categorical(label));
        }

        return observation;
    }

    /// <summary>
    /// Marks the observation as failed because of <paramref name="exception"/>, with the code
    /// <see cref="FailureCode.FromException"/> gives (see the other overload for what is recorded).
    /// </summary>
    /// <param name="observation">The observation that failed.</param>
    /// <param name="type">Which part failed.</param>
    /// <param name="exception">The exception.</param>
    /// <param name="score">Whether to also record the <c>failure</c> score (default true).</param>
    /// <returns>The observation, for chaining.</returns>
    public static LangfuseObservation RecordFailure(this LangfuseObservation observation, FailureType type, Exception exception, bool score = true) =>
        observation.RecordFailure(type, FailureCode.FromException(exception), message: null, exception, score);

    /// <summary>The failure type as written to Langfuse: <c>tool</c>, <c>model</c>, <c>retrieval</c> or <c>orchestration</c>.</summary>
    /// <param name="type">The failure type.</param>
    /// <returns>Its lowercase name.</returns>
    public static string ToWire(this FailureType type) => type switch
    {
        FailureType.Tool => "tool",
        FailureType.Model => "model",
        FailureType.Retrieval => "retrieval",
        FailureType.Orchestration => "orchestration",
        _ => "unknown",
    };

    /// <summary><c>type/code</c>, the status message and <c>failure</c> score value of a failure.</summary>
    internal static string Label(FailureType type, FailureCode code) => $"{ToWire(type)}/{code.Value}";
}
