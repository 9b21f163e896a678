using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Pipeline;

namespace Langfuse.Agents.Internal.Tracing;

/// <summary>
/// The order of a tracer's shutdown, run once: stop the pipeline and send what is queued, then (with what is left of
/// the budget) what waits on disk, then close the forwarder and the buffer. Later calls get the first call's result.
/// </summary>
internal sealed class TracerShutdown(
    ExportPipeline? pipeline,
    IDurableQueue? durable,
    DurableForwarder? forwarder,
    TimeProvider timeProvider,
    TimeSpan defaultBudget)
{
    private readonly Lock _gate = new();
    private Task<LangfuseFlushResult>? _task;

    /// <summary>The budget used when the caller gives none (<see cref="LangfuseOptions.ShutdownTimeout"/>).</summary>
    public TimeSpan DefaultBudget => defaultBudget;

    /// <summary>Starts the shutdown (once) and returns its result.</summary>
    public Task<LangfuseFlushResult> RunAsync(TimeSpan? budget)
    {
        lock (_gate)
        {
            return _task ??= RunCoreAsync(budget ?? defaultBudget);
        }
    }

    /// <summary>
    /// Shuts down from a thread that must not return before it is done (process exit, <c>Dispose</c>): bounded by the
    /// budget plus a second. Never throws.
    /// </summary>
    public void WaitOnExit()
    {
        try
        {
            Task.Run(() => RunAsync(null)).Wait(defaultBudget + TimeSpan.FromSeconds(1));
        }
        catch (Exception)
        {
            // Shutdown never throws by design; this only guards the wait itself (and the process may be exiting).
        }
    }

    /// <summary>
    /// Sends what is queued, then (with what is left of the budget) what waits on disk, so a short run with a small
    /// backlog leaves nothing behind when Langfuse is up; when it is down, what was not sent stays on disk.
    /// </summary>
    private async Task<LangfuseFlushResult> RunCoreAsync(TimeSpan budget)
    {
        if (pipeline is null)
        {
            return new LangfuseFlushResult { Completed = true };
        }

        var started = timeProvider.GetTimestamp();
        var result = await pipeline.ShutdownAsync(budget).ConfigureAwait(false);
        if (forwarder is not null)
        {
            var left = budget - timeProvider.GetElapsedTime(started);
            if (left > TimeSpan.Zero && durable is { Stats.Records: > 0 })
            {
                await forwarder.DrainAsync(left).ConfigureAwait(false);
            }

            await forwarder.DisposeAsync().ConfigureAwait(false);
        }

        durable?.Dispose();
        return result;
    }
}
