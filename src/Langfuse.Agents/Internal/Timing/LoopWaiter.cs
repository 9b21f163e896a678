namespace Langfuse.Agents.Internal.Timing;

/// <summary>
/// How a background loop sleeps: until its timeout passes on the clock, until <see cref="Wake"/> is called, or until it
/// is stopped. Wakes are coalesced: a wake while the loop is running makes its next wait return at once. When an
/// <see cref="IdleProbe"/> is given, the waiter reports parking once its timer is armed, and the waker (the clock's
/// timer callback or the caller of <see cref="Wake"/>) reports the resume synchronously.
/// </summary>
internal sealed class LoopWaiter(TimeProvider timeProvider, IdleProbe? probe)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource? _current;
    private bool _parked;
    private bool _wakePending;

    /// <summary>Ends the current wait, or the next one if the loop is not waiting now.</summary>
    public void Wake()
    {
        lock (_lock)
        {
            if (_current is null)
            {
                _wakePending = true;
                return;
            }

            ReleaseLocked(_current);
        }
    }

    /// <summary>Waits for <paramref name="timeout"/> (or <see cref="Timeout.InfiniteTimeSpan"/>), a wake, or <paramref name="stopping"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken stopping)
    {
        if (timeout != Timeout.InfiniteTimeSpan && timeout <= TimeSpan.Zero)
        {
            return;
        }

        var wait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_wakePending || stopping.IsCancellationRequested)
            {
                _wakePending = false;
                return;
            }

            _current = wait;
        }

        // The timer is armed before the loop says it is parked, so a test that sees it parked can move the clock past it.
        using var timer = timeout == Timeout.InfiniteTimeSpan
            ? null
            : timeProvider.CreateTimer(static state => ((Wait)state!).Release(), new Wait(this, wait), timeout, Timeout.InfiniteTimeSpan);
        using var registration = stopping.Register(static state => ((Wait)state!).Release(), new Wait(this, wait));
        lock (_lock)
        {
            if (!wait.Task.IsCompleted)
            {
                _parked = true;
                probe?.Parked();
            }
        }

        await wait.Task.ConfigureAwait(false);
    }

    private void Release(TaskCompletionSource wait)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_current, wait))
            {
                ReleaseLocked(wait);
            }
        }
    }

    private void ReleaseLocked(TaskCompletionSource wait)
    {
        _current = null;
        if (_parked)
        {
            _parked = false;
            probe?.Resumed();
        }

        wait.TrySetResult();
    }

    private sealed class Wait(LoopWaiter owner, TaskCompletionSource wait)
    {
        public void Release() => owner.Release(wait);
    }
}
