namespace Langfuse.Agents.Internal.Timing;

/// <summary>
/// The clock for code that waits in the middle of an actor's work (Polly's retry delays, the per-event back-off):
/// every timer it creates is a wait, so while one is armed the actor counts as parked on the <see cref="IdleProbe"/>,
/// and firing or cancelling it resumes the actor synchronously. Only used when a probe is given.
/// </summary>
internal sealed class WaitingTimeProvider(TimeProvider inner, IdleProbe probe) : TimeProvider
{
    /// <summary>The clock for waits: <paramref name="time"/> itself when there is no probe.</summary>
    public static TimeProvider For(TimeProvider time, IdleProbe? probe) => probe is null ? time : new WaitingTimeProvider(time, probe);

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

    public override long GetTimestamp() => inner.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new WaitTimer(probe, callback, state);
        timer.Inner = inner.CreateTimer(static s => ((WaitTimer)s!).Fire(), timer, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class WaitTimer(IdleProbe probe, TimerCallback callback, object? state) : ITimer
    {
        private readonly Lock _lock = new();
        private long _generation;
        private bool _parked;

        public ITimer Inner { get; set; } = null!;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            long generation;
            lock (_lock)
            {
                generation = ++_generation;
                Resume();
            }

            var changed = Inner.Change(dueTime, period);

            // Parked only once the timer is armed, and only if it has not fired meanwhile. A timer due now is not a
            // wait on the clock: it fires on its own.
            lock (_lock)
            {
                if (generation == _generation && dueTime != Timeout.InfiniteTimeSpan && dueTime > TimeSpan.Zero)
                {
                    _parked = true;
                    probe.Parked();
                }
            }

            return changed;
        }

        public void Fire()
        {
            lock (_lock)
            {
                _generation++;
                Resume();
            }

            callback(state);
        }

        public void Dispose()
        {
            Inner.Dispose();
            lock (_lock)
            {
                _generation++;
                Resume();
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private void Resume()
        {
            if (_parked)
            {
                _parked = false;
                probe.Resumed();
            }
        }
    }
}
