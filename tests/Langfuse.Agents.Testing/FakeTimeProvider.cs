namespace Langfuse.Agents.Testing;

/// <summary>
/// A <see cref="TimeProvider"/> whose clock only moves when a test moves it. Timers created through
/// <see cref="CreateTimer"/> (which is what <c>Task.Delay(TimeSpan, TimeProvider, CancellationToken)</c>
/// and Polly use) fire synchronously, in due order, on the thread that calls <see cref="Advance"/> or
/// <see cref="SetUtcNow"/>. A timer created already due (due time zero) fires on the thread pool, as a
/// real timer would.
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _now;
    private long _sequence;
    private TimeZoneInfo _localTimeZone = TimeZoneInfo.Utc;
    private TaskCompletionSource _timersChanged = NewSignal();

    /// <summary>Starts the clock at 2026-01-01T00:00:00Z.</summary>
    public FakeTimeProvider()
        : this(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>Starts the clock at <paramref name="startTime"/>.</summary>
    public FakeTimeProvider(DateTimeOffset startTime)
    {
        Start = startTime;
        _now = startTime;
    }

    /// <summary>The time the clock started at.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>Number of timers that are scheduled to fire (created, not disposed, with a finite due time).</summary>
    public int ActiveTimers
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count;
            }
        }
    }

    /// <summary>Local time zone reported to callers; UTC unless changed with <see cref="SetLocalTimeZone"/>.</summary>
    public override TimeZoneInfo LocalTimeZone
    {
        get
        {
            lock (_lock)
            {
                return _localTimeZone;
            }
        }
    }

    /// <summary>
    /// Ticks of <see cref="TimeSpan"/> (100 ns), so <see cref="TimeProvider.GetElapsedTime(long, long)"/>
    /// agrees with <see cref="GetUtcNow"/>.
    /// </summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    /// <inheritdoc />
    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>Changes the local time zone.</summary>
    public void SetLocalTimeZone(TimeZoneInfo timeZone)
    {
        ArgumentNullException.ThrowIfNull(timeZone);
        lock (_lock)
        {
            _localTimeZone = timeZone;
        }
    }

    /// <summary>Moves the clock forward, firing every timer that falls due on the way, in due order.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative.</exception>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        DateTimeOffset target;
        lock (_lock)
        {
            target = _now + delta;
        }

        AdvanceTo(target);
    }

    /// <summary>Sets the clock to <paramref name="value"/>, firing timers that fall due on the way.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is earlier than the current time.</exception>
    public void SetUtcNow(DateTimeOffset value)
    {
        lock (_lock)
        {
            if (value < _now)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"The fake clock cannot go backwards (now {_now:O}).");
            }
        }

        AdvanceTo(value);
    }

    /// <summary>
    /// Completes when at least <paramref name="count"/> timers are scheduled. Only for code that has no signal of its
    /// own and arms its timer before returning to the test; the SDK's background actors say when they are parked
    /// (its internal <c>IdleProbe</c>), which is what tests of the SDK wait on. Not in Microsoft's FakeTimeProvider.
    /// </summary>
    /// <exception cref="TimeoutException">Fewer timers were scheduled within <paramref name="timeout"/> (real time).</exception>
    public async Task WaitForTimersAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_timers.Count >= count)
                {
                    return;
                }

                changed = _timersChanged.Task;
            }

            try
            {
                await changed.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"Expected at least {count} active timer(s) within {timeout}, but {ActiveTimers} are scheduled (clock at {GetUtcNow():O}).");
            }
        }
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <inheritdoc />
    public override string ToString() => $"FakeTimeProvider at {GetUtcNow():O}, {ActiveTimers} active timer(s)";

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void AdvanceTo(DateTimeOffset target)
    {
        while (true)
        {
            FakeTimer? due = null;
            lock (_lock)
            {
                foreach (var timer in _timers)
                {
                    if (timer.DueTime <= target &&
                        (due is null || timer.DueTime < due.DueTime ||
                         (timer.DueTime == due.DueTime && timer.Sequence < due.Sequence)))
                    {
                        due = timer;
                    }
                }

                if (due is null)
                {
                    if (target > _now)
                    {
                        _now = target;
                    }

                    break;
                }

                if (due.DueTime > _now)
                {
                    _now = due.DueTime;
                }

                if (due.Period > TimeSpan.Zero)
                {
                    due.DueTime = _now + due.Period;
                    due.Sequence = ++_sequence;
                }
                else
                {
                    _timers.Remove(due);
                }
            }

            // Outside the lock: the callback may create, change or dispose timers.
            SignalTimersChanged();
            due.Callback(due.State);
        }
    }

    private void SignalTimersChanged()
    {
        TaskCompletionSource old;
        lock (_lock)
        {
            old = _timersChanged;
            _timersChanged = NewSignal();
        }

        old.TrySetResult();
    }

    private bool Schedule(FakeTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        var fireNow = false;
        lock (_lock)
        {
            if (timer.Disposed)
            {
                return false;
            }

            _timers.Remove(timer);
            timer.Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                timer.DueTime = _now + dueTime;
                timer.Sequence = ++_sequence;
                _timers.Add(timer);
                fireNow = dueTime == TimeSpan.Zero;
            }
        }

        SignalTimersChanged();
        if (fireNow)
        {
            // A real timer due now fires on the thread pool; firing inline would run the callback before
            // CreateTimer has even returned the timer to its owner (Task.Delay relies on that ordering).
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.AdvanceTo(self.GetUtcNow()), this, preferLocal: false);
        }

        return true;
    }

    private void Unschedule(FakeTimer timer)
    {
        lock (_lock)
        {
            timer.Disposed = true;
            _timers.Remove(timer);
        }

        SignalTimersChanged();
    }

    private static void ValidateTime(TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be non-negative or Timeout.InfiniteTimeSpan.");
        }
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public TimerCallback Callback { get; } = callback;

        public object? State { get; } = state;

        // Guarded by owner._lock.
        public DateTimeOffset DueTime { get; set; }

        public TimeSpan Period { get; set; }

        public long Sequence { get; set; }

        public bool Disposed { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            ValidateTime(dueTime, nameof(dueTime));
            ValidateTime(period, nameof(period));
            return owner.Schedule(this, dueTime, period);
        }

        public void Dispose() => owner.Unschedule(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
