namespace Langfuse.Agents.Internal.Timing;

/// <summary>
/// A test hook: counts the SDK's background actors (the export pipeline's reader, the disk forwarder) that are running
/// rather than parked on the clock or on a wake signal. Every transition to running is made synchronously by whatever
/// ends the wait (a fake clock's <c>Advance</c> firing the timer, a producer waking the reader), so once a test's
/// clock step returns and <see cref="WaitIdleAsync"/> completes, every actor has done all the work that step allowed.
/// Production code passes <see langword="null"/> and pays nothing.
/// </summary>
internal sealed class IdleProbe
{
    private readonly Lock _lock = new();
    private int _running;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Actors running now (not parked).</summary>
    public int Running
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    /// <summary>An actor started (its loop is about to run).</summary>
    public void Started() => Change(+1);

    /// <summary>An actor's loop ended for good.</summary>
    public void Stopped() => Change(-1);

    /// <summary>A running actor now waits on the clock or a wake signal (its timer, if any, is armed).</summary>
    public void Parked() => Change(-1);

    /// <summary>A parked actor was woken; called by the waker, before the actor's continuation runs.</summary>
    public void Resumed() => Change(+1);

    /// <summary>Completes when no actor is running: all are parked (or stopped).</summary>
    /// <exception cref="TimeoutException">Some actor kept running for <paramref name="guard"/> (real time): a hot loop or a hang.</exception>
    public async Task WaitIdleAsync(TimeSpan guard)
    {
        using var cts = new CancellationTokenSource(guard);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_running <= 0)
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"{Running} background actor(s) still running after {guard}: one never parks (a hot loop) or hangs.");
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Change(int delta)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            _running += delta;
            signal = _changed;
            _changed = NewSignal();
        }

        signal.TrySetResult();
    }
}
