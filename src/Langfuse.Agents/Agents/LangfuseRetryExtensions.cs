namespace Langfuse.Agents;

/// <summary>
/// Records retries as separate observations: every attempt is its own observation with the same name and metadata
/// <c>attempt</c> (1, 2, 3...) and <c>retry.reason</c>, and a failed attempt stays in Langfuse as an <c>ERROR</c>
/// with its own status message. Nothing is overwritten, so the trace shows each try and why it was made.
/// </summary>
public static class LangfuseRetryExtensions
{
    /// <summary>
    /// Starts attempt <paramref name="attempt"/> of a step as a child of the current observation: metadata
    /// <c>attempt</c> and, when given, <c>retry.reason</c>. Keep <paramref name="name"/> the same for every attempt so
    /// Langfuse groups them; the attempt number tells them apart.
    /// </summary>
    /// <param name="tracer">The tracer.</param>
    /// <param name="name">The step's name, the same for every attempt.</param>
    /// <param name="attempt">The attempt number, from 1.</param>
    /// <param name="reason">Why this attempt happens, as a code (for example the previous attempt's failure code); null for the first.</param>
    /// <param name="type">The observation type, for example <see cref="ObservationType.Tool"/>.</param>
    /// <param name="input">The attempt's input, if known now.</param>
    /// <returns>The attempt's observation; it becomes the current observation.</returns>
    public static LangfuseObservation StartAttempt(this LangfuseTracer tracer, string name, int attempt, string? reason = null, ObservationType type = ObservationType.Span, object? input = null)
    {
        ArgumentNullException.ThrowIfNull(tracer);
        return Start(tracer, parent: null, name, attempt, reason, type, input);
    }

    /// <summary>Starts attempt <paramref name="attempt"/> of a step as a child of <paramref name="parent"/> (see the tracer overload).</summary>
    /// <param name="parent">The parent observation.</param>
    /// <param name="name">The step's name, the same for every attempt.</param>
    /// <param name="attempt">The attempt number, from 1.</param>
    /// <param name="reason">Why this attempt happens, as a code; null for the first.</param>
    /// <param name="type">The observation type.</param>
    /// <param name="input">The attempt's input, if known now.</param>
    /// <returns>The attempt's observation; it becomes the current observation.</returns>
    public static LangfuseObservation StartAttempt(this LangfuseObservation parent, string name, int attempt, string? reason = null, ObservationType type = ObservationType.Span, object? input = null)
    {
        ArgumentNullException.ThrowIfNull(parent);
        return Start(parent.Tracer, parent, name, attempt, reason, type, input);
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> up to <paramref name="maxAttempts"/> times, each time in a new observation
    /// (see <see cref="StartAttempt(LangfuseTracer, string, int, string?, ObservationType, object?)"/>) under the current
    /// observation. An attempt that throws is recorded with
    /// <see cref="LangfuseFailureExtensions.RecordFailure(LangfuseObservation, FailureType, FailureCode, string?, Exception?, bool)"/>
    /// and, if <see cref="AgentRetryOptions.ShouldRetry"/> allows and attempts remain, tried again with
    /// <c>retry.reason</c> set to its failure code; the last exception is rethrown unchanged. An attempt that returns
    /// with its level set to <c>ERROR</c> (for example after <c>RecordFailure(FailureType.Model, FailureCode.SchemaInvalid)</c>)
    /// counts as failed too; the last attempt's result is returned whatever its level.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="tracer">The tracer.</param>
    /// <param name="name">The step's name, the same for every attempt.</param>
    /// <param name="type">The observation type of each attempt.</param>
    /// <param name="maxAttempts">The most attempts, at least 1.</param>
    /// <param name="attempt">One attempt: receives its observation and its number (from 1).</param>
    /// <param name="options">Classification, retry predicate and delays; null for the defaults.</param>
    /// <param name="cancellationToken">Stops retrying; a cancelled attempt is recorded as <c>cancelled</c> and not retried.</param>
    /// <returns>The result of the first successful attempt, or of the last one.</returns>
    public static async Task<T> RunWithRetriesAsync<T>(
        this LangfuseTracer tracer,
        string name,
        ObservationType type,
        int maxAttempts,
        Func<LangfuseObservation, int, Task<T>> attempt,
        AgentRetryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tracer);
        ArgumentNullException.ThrowIfNull(attempt);
        options ??= Defaults;
        maxAttempts = Math.Max(1, maxAttempts);
        var parent = LangfuseTracer.CurrentObservation;
        string? reason = null;
        for (var number = 1; ; number++)
        {
            var observation = Start(tracer, parent, name, number, reason, type, input: null);
            try
            {
                var result = await attempt(observation, number).ConfigureAwait(false);
                if (number >= maxAttempts || observation.Level != ObservationLevel.Error)
                {
                    return result;
                }

                reason = observation.Metadata.TryGetValue(AgentMetadataKeys.FailureCode, out var code) && code is string text
                    ? text
                    : "error";
            }
            catch (Exception ex)
            {
                var cancelled = ex is OperationCanceledException && cancellationToken.IsCancellationRequested;
                var failure = cancelled ? FailureCode.Cancelled : Classify(options, ex);
                observation.RecordFailure(options.FailureType, failure, message: null, ex, options.ScoreFailures);
                if (cancelled || number >= maxAttempts || !ShouldRetry(options, ex))
                {
                    throw;
                }

                reason = failure.Value;
            }
            finally
            {
                observation.End();
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (options.Delay?.Invoke(number) is { } delay && delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, options.TimeProvider ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs <paramref name="attempt"/> with retries, each attempt its own observation (see the generic overload).</summary>
    /// <param name="tracer">The tracer.</param>
    /// <param name="name">The step's name, the same for every attempt.</param>
    /// <param name="type">The observation type of each attempt.</param>
    /// <param name="maxAttempts">The most attempts, at least 1.</param>
    /// <param name="attempt">One attempt: receives its observation and its number (from 1).</param>
    /// <param name="options">Classification, retry predicate and delays; null for the defaults.</param>
    /// <param name="cancellationToken">Stops retrying.</param>
    /// <returns>A task that completes when an attempt succeeded, or faults with the last attempt's exception.</returns>
    public static Task RunWithRetriesAsync(
        this LangfuseTracer tracer,
        string name,
        ObservationType type,
        int maxAttempts,
        Func<LangfuseObservation, int, Task> attempt,
        AgentRetryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        return tracer.RunWithRetriesAsync<bool>(
            name,
            type,
            maxAttempts,
            async (observation, number) =>
            {
                await attempt(observation, number).ConfigureAwait(false);
                return true;
            },
            options,
            cancellationToken);
    }

    private static readonly AgentRetryOptions Defaults = new();

    private static FailureCode Classify(AgentRetryOptions options, Exception exception)
    {
        try
        {
            return options.Classify?.Invoke(exception) ?? FailureCode.FromException(exception);
        }
        catch (Exception)
        {
            return FailureCode.Unknown; // a buggy classifier must not replace the agent's own exception
        }
    }

    private static bool ShouldRetry(AgentRetryOptions options, Exception exception)
    {
        try
        {
            return options.ShouldRetry?.Invoke(exception) ?? true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private static LangfuseObservation Start(LangfuseTracer tracer, LangfuseObservation? parent, string name, int attempt, string? reason, ObservationType type, object? input)
    {
        var observation = tracer.StartObservation(name, type, parent, input).SetMetadata(AgentMetadataKeys.Attempt, attempt);
        if (!string.IsNullOrEmpty(reason))
        {
            observation.SetMetadata(AgentMetadataKeys.RetryReason, reason);
        }

        return observation;
    }
}
