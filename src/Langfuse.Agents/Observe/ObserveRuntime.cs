using System.ComponentModel;
using Langfuse.Agents.Internal;

namespace Langfuse.Agents.Observe;

/// <summary>
/// What the code generated for <see cref="ObserveAttribute"/> calls: starts and finishes the observation around an
/// intercepted call, for each kind of result. Not meant to be called by hand; use <see cref="LangfuseTracer"/>.
/// </summary>
/// <remarks>
/// Nothing here throws into the caller: an SDK failure costs the observation, never the call. The caller's own
/// exceptions pass through unchanged (the generated code rethrows them with <c>throw;</c>).
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ObserveRuntime
{
    /// <summary>The environment variable that turns capture of inputs and outputs off when it is <c>false</c>.</summary>
    public const string CaptureVariable = "LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED";

    private static bool s_captureEnabled = ReadCaptureEnabled(static name => Environment.GetEnvironmentVariable(name));

    /// <summary>
    /// Whether inputs and outputs are captured: true unless <see cref="CaptureVariable"/> is <c>false</c>.
    /// Read once, at first use.
    /// </summary>
    public static bool CaptureEnabled => Volatile.Read(ref s_captureEnabled);

    /// <summary>A tracer used instead of <see cref="LangfuseTracer.Default"/> (tests and benchmarks).</summary>
    internal static LangfuseTracer? TracerOverride { get; set; }

    /// <summary>Starts an observation that is current until it ends.</summary>
    /// <param name="name">The observation's name.</param>
    /// <param name="type">Its type.</param>
    /// <returns>The observation, or <see langword="null"/> if the SDK failed (the call then runs untraced).</returns>
    public static LangfuseObservation? Start(string name, ObservationType type)
    {
        try
        {
            return (TracerOverride ?? LangfuseTracer.Default).StartObservation(name, type);
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>
    /// Starts an observation for a call that returns before its work ends (a task or a stream): it is current until
    /// <see cref="Restore"/> hands the caller its own current observation back.
    /// </summary>
    /// <param name="name">The observation's name.</param>
    /// <param name="type">Its type.</param>
    /// <param name="previous">The caller's current observation, for <see cref="Restore"/>.</param>
    /// <returns>The observation, or <see langword="null"/> if the SDK failed.</returns>
    public static LangfuseObservation? Start(string name, ObservationType type, out LangfuseObservation? previous)
    {
        previous = ObservationContext.Current;
        return Start(name, type);
    }

    /// <summary>
    /// Makes <paramref name="previous"/> current again once the call has returned its task or stream: the work still
    /// running inside the call keeps the observation as its current one (it flowed with the execution context).
    /// </summary>
    /// <param name="observation">The observation started for the call.</param>
    /// <param name="previous">The caller's current observation before the call.</param>
    public static void Restore(LangfuseObservation? observation, LangfuseObservation? previous)
    {
        if (observation is not null && ReferenceEquals(ObservationContext.Current, observation))
        {
            ObservationContext.Current = previous;
        }
    }

    /// <summary>Records the arguments as the input when capture is on.</summary>
    /// <param name="observation">The observation.</param>
    /// <param name="input">The arguments by parameter name.</param>
    public static void SetInput(LangfuseObservation? observation, Dictionary<string, object?> input)
    {
        if (observation is not null && CaptureEnabled)
        {
            observation.Input = input;
        }
    }

    /// <summary>Records a failure (level ERROR, status message, exception) and ends the observation.</summary>
    /// <param name="observation">The observation.</param>
    /// <param name="exception">The exception the call threw; the generated code rethrows it unchanged.</param>
    public static void Fail(LangfuseObservation? observation, Exception exception)
    {
        if (observation is null)
        {
            return;
        }

        try
        {
            observation.RecordException(exception);
            observation.End();
        }
        catch (Exception)
        {
            // The SDK never throws into the caller; the caller's exception is what propagates.
        }
    }

    /// <summary>Ends the observation.</summary>
    /// <param name="observation">The observation.</param>
    public static void End(LangfuseObservation? observation)
    {
        try
        {
            observation?.End();
        }
        catch (Exception)
        {
            // Never surfaces into the caller.
        }
    }

    /// <summary>Records the return value as the output, unless the method set one itself, and ends the observation.</summary>
    /// <typeparam name="T">The return type.</typeparam>
    /// <param name="observation">The observation.</param>
    /// <param name="value">The return value.</param>
    public static void Complete<T>(LangfuseObservation? observation, T value)
    {
        if (observation is null)
        {
            return;
        }

        try
        {
            if (CaptureEnabled && observation.Output is null)
            {
                observation.Output = value;
            }

            observation.End();
        }
        catch (Exception)
        {
            // Never surfaces into the caller.
        }
    }

    /// <summary>Ends the observation when the task ends (as an error if it fails or is cancelled).</summary>
    /// <param name="observation">The observation.</param>
    /// <param name="task">The task the call returned.</param>
    /// <returns>The task itself when it is already done, else a task that completes the same way after the observation ends.</returns>
    public static Task CompleteTask(LangfuseObservation? observation, Task task)
    {
        if (observation is null || task is null || task.IsCompletedSuccessfully)
        {
            End(observation);
            return task!;
        }

        return AwaitAsync(observation, task);

        static async Task AwaitAsync(LangfuseObservation observation, Task task)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Fail(observation, exception);
                throw;
            }

            End(observation);
        }
    }

    /// <summary>Records the task's result as the output and ends the observation when the task ends.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="observation">The observation.</param>
    /// <param name="task">The task the call returned.</param>
    /// <param name="captureOutput">Whether the result becomes the output.</param>
    /// <returns>The task itself when it is already done, else a task with the same outcome.</returns>
    public static Task<T> CompleteTask<T>(LangfuseObservation? observation, Task<T> task, bool captureOutput)
    {
        if (observation is null || task is null)
        {
            End(observation);
            return task!;
        }

        if (task.IsCompletedSuccessfully)
        {
            Finish(observation, task.Result, captureOutput);
            return task;
        }

        return AwaitAsync(observation, task, captureOutput);

        static async Task<T> AwaitAsync(LangfuseObservation observation, Task<T> task, bool captureOutput)
        {
            T result;
            try
            {
                result = await task.ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Fail(observation, exception);
                throw;
            }

            Finish(observation, result, captureOutput);
            return result;
        }
    }

    /// <summary>Ends the observation when the value task ends (as an error if it fails or is cancelled).</summary>
    /// <param name="observation">The observation.</param>
    /// <param name="task">The value task the call returned.</param>
    /// <returns>The value task itself when it is already done, else one with the same outcome.</returns>
    public static ValueTask CompleteValueTask(LangfuseObservation? observation, ValueTask task)
    {
        if (observation is null || task.IsCompletedSuccessfully)
        {
            End(observation);
            return task;
        }

        return AwaitAsync(observation, task);

        static async ValueTask AwaitAsync(LangfuseObservation observation, ValueTask task)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Fail(observation, exception);
                throw;
            }

            End(observation);
        }
    }

    /// <summary>Records the value task's result as the output and ends the observation when it ends.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="observation">The observation.</param>
    /// <param name="task">The value task the call returned.</param>
    /// <param name="captureOutput">Whether the result becomes the output.</param>
    /// <returns>A value task with the same outcome.</returns>
    public static ValueTask<T> CompleteValueTask<T>(LangfuseObservation? observation, ValueTask<T> task, bool captureOutput)
    {
        if (observation is null)
        {
            return task;
        }

        if (task.IsCompletedSuccessfully)
        {
            // Read once and hand back a plain value: a value task backed by a source may not be read twice.
            var result = task.Result;
            Finish(observation, result, captureOutput);
            return new ValueTask<T>(result);
        }

        return AwaitAsync(observation, task, captureOutput);

        static async ValueTask<T> AwaitAsync(LangfuseObservation observation, ValueTask<T> task, bool captureOutput)
        {
            T result;
            try
            {
                result = await task.ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Fail(observation, exception);
                throw;
            }

            Finish(observation, result, captureOutput);
            return result;
        }
    }

    /// <summary>
    /// Keeps the observation open while the stream is consumed: it is current inside each step, gathers the items
    /// (joined text for strings, else a capped list) and ends on completion, disposal or error.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="observation">The observation.</param>
    /// <param name="stream">The stream the call returned.</param>
    /// <param name="captureOutput">Whether the items become the output.</param>
    /// <returns>A stream with the same items.</returns>
    public static IAsyncEnumerable<T> CompleteStream<T>(LangfuseObservation? observation, IAsyncEnumerable<T> stream, bool captureOutput)
    {
        if (observation is null || stream is null)
        {
            End(observation);
            return stream!;
        }

        return new ObservedAsyncEnumerable<T>(observation, stream, captureOutput && CaptureEnabled);
    }

    internal static bool ReadCaptureEnabled(Func<string, string?> getVariable) =>
        !string.Equals(getVariable(CaptureVariable)?.Trim(), "false", StringComparison.OrdinalIgnoreCase);

    /// <summary>Sets capture on or off as if read from the environment (tests).</summary>
    internal static void SetCaptureEnabled(bool enabled) => Volatile.Write(ref s_captureEnabled, enabled);

    private static void Finish<T>(LangfuseObservation observation, T result, bool captureOutput)
    {
        if (captureOutput)
        {
            Complete(observation, result);
        }
        else
        {
            End(observation);
        }
    }
}
