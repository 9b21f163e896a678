using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

// Test names follow the house style Method_Condition_Result (STYLE.md, item 13).
#pragma warning disable CA1707

namespace Langfuse.Agents.Tests.Testing;

public sealed class FakeTimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    [Fact]
    public void Clock_StartsAtGivenTime_AndMovesOnlyOnAdvance()
    {
        var time = new FakeTimeProvider(Start);

        time.GetUtcNow().ShouldBe(Start);
        time.Advance(TimeSpan.FromMinutes(5));
        time.GetUtcNow().ShouldBe(Start.AddMinutes(5));
        time.SetUtcNow(Start.AddHours(1));
        time.GetUtcNow().ShouldBe(Start.AddHours(1));
        time.LocalTimeZone.ShouldBe(TimeZoneInfo.Utc);
    }

    [Fact]
    public void Clock_CannotGoBackwards()
    {
        var time = new FakeTimeProvider(Start);

        Should.Throw<ArgumentOutOfRangeException>(() => time.Advance(TimeSpan.FromTicks(-1)));
        Should.Throw<ArgumentOutOfRangeException>(() => time.SetUtcNow(Start.AddTicks(-1)));
    }

    [Fact]
    public void Timestamps_AgreeWithTheClock()
    {
        var time = new FakeTimeProvider(Start);
        var before = time.GetTimestamp();

        time.Advance(TimeSpan.FromMilliseconds(1500));

        time.GetElapsedTime(before).ShouldBe(TimeSpan.FromMilliseconds(1500));
        time.GetElapsedTime(before, time.GetTimestamp()).ShouldBe(TimeSpan.FromMilliseconds(1500));
    }

    [Fact]
    public void Timer_FiresWhenClockReachesDueTime_NotBefore()
    {
        var time = new FakeTimeProvider(Start);
        var fired = new List<DateTimeOffset>();
        using var timer = time.CreateTimer(_ => fired.Add(time.GetUtcNow()), null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);

        time.Advance(TimeSpan.FromSeconds(9.999));
        fired.ShouldBeEmpty();
        time.ActiveTimers.ShouldBe(1);

        time.Advance(TimeSpan.FromSeconds(5));
        fired.ShouldBe([Start.AddSeconds(10)]);
        time.GetUtcNow().ShouldBe(Start.AddSeconds(14.999));
        time.ActiveTimers.ShouldBe(0);
    }

    [Fact]
    public void Timers_FireInDueOrder_WithClockAtEachDueTime()
    {
        var time = new FakeTimeProvider(Start);
        var fired = new List<(string Name, DateTimeOffset At)>();
        using var late = time.CreateTimer(_ => fired.Add(("late", time.GetUtcNow())), null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
        using var early = time.CreateTimer(_ => fired.Add(("early", time.GetUtcNow())), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        time.Advance(TimeSpan.FromSeconds(10));

        fired.ShouldBe([("early", Start.AddSeconds(1)), ("late", Start.AddSeconds(3))]);
    }

    [Fact]
    public void PeriodicTimer_FiresOncePerElapsedPeriod()
    {
        var time = new FakeTimeProvider(Start);
        var count = 0;
        using var timer = time.CreateTimer(_ => count++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

        time.Advance(TimeSpan.FromSeconds(6));

        count.ShouldBe(3); // at 1 s, 3 s and 5 s
        time.ActiveTimers.ShouldBe(1);
    }

    [Fact]
    public void Change_PostponesTheTimer_AndDisposeStopsIt()
    {
        var time = new FakeTimeProvider(Start);
        var count = 0;
        var timer = time.CreateTimer(_ => count++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        timer.Change(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan).ShouldBeTrue();
        time.Advance(TimeSpan.FromSeconds(4));
        count.ShouldBe(0);
        time.Advance(TimeSpan.FromSeconds(1));
        count.ShouldBe(1);

        timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        timer.Dispose();
        time.Advance(TimeSpan.FromSeconds(10));
        count.ShouldBe(1);
        time.ActiveTimers.ShouldBe(0);
        timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan).ShouldBeFalse();
    }

    [Fact]
    public async Task TimerDueNow_FiresWithoutAdvance()
    {
        var time = new FakeTimeProvider(Start);
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        using var timer = time.CreateTimer(_ => fired.TrySetResult(), null, TimeSpan.Zero, Timeout.InfiniteTimeSpan);

        await fired.Task.WaitAsync(WaitLimit);
        time.GetUtcNow().ShouldBe(Start);
    }

    [Fact]
    public async Task TaskDelay_CompletesOnlyAfterAdvance()
    {
        var time = new FakeTimeProvider(Start);

        var delay = Task.Delay(TimeSpan.FromSeconds(30), time);

        delay.IsCompleted.ShouldBeFalse();
        time.ActiveTimers.ShouldBe(1);
        time.Advance(TimeSpan.FromSeconds(29));
        delay.IsCompleted.ShouldBeFalse();
        time.Advance(TimeSpan.FromSeconds(1));
        await delay.WaitAsync(WaitLimit);
        time.ActiveTimers.ShouldBe(0);
    }

    [Fact]
    public async Task TaskDelay_Cancelled_RemovesItsTimer()
    {
        var time = new FakeTimeProvider(Start);
        using var cts = new CancellationTokenSource();
        var delay = Task.Delay(TimeSpan.FromSeconds(30), time, cts.Token);
        time.ActiveTimers.ShouldBe(1);

        await cts.CancelAsync();

        await Should.ThrowAsync<TaskCanceledException>(() => delay.WaitAsync(WaitLimit));
        time.ActiveTimers.ShouldBe(0);
    }

    [Fact]
    public async Task WaitForTimersAsync_CompletesOnceABackgroundDelayIsScheduled()
    {
        var time = new FakeTimeProvider(Start);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = Task.Run(async () =>
        {
            await gate.Task;
            await Task.Delay(TimeSpan.FromSeconds(5), time);
            return time.GetUtcNow();
        });

        var waiting = time.WaitForTimersAsync(1, WaitLimit);
        waiting.IsCompleted.ShouldBeFalse();
        gate.SetResult();
        await waiting;
        time.Advance(TimeSpan.FromSeconds(5));

        (await worker.WaitAsync(WaitLimit)).ShouldBe(Start.AddSeconds(5));
    }

    [Fact]
    public async Task WaitForTimersAsync_TimesOutWhenNothingIsScheduled()
    {
        var time = new FakeTimeProvider(Start);

        var ex = await Should.ThrowAsync<TimeoutException>(() => time.WaitForTimersAsync(1, TimeSpan.FromMilliseconds(50)));

        ex.Message.ShouldContain("0 are scheduled");
    }

    [Fact]
    public async Task SequentialDelays_LikeARetryLoop_AdvanceStepByStep()
    {
        var time = new FakeTimeProvider(Start);
        var attempts = new List<DateTimeOffset>();
        var loop = Task.Run(async () =>
        {
            for (var attempt = 0; attempt < 3; attempt++)
            {
                attempts.Add(time.GetUtcNow());
                await Task.Delay(TimeSpan.FromSeconds(1 << attempt), time);
            }
        });

        for (var step = 0; step < 3; step++)
        {
            await time.WaitForTimersAsync(1, WaitLimit);
            time.Advance(TimeSpan.FromSeconds(1 << step));
        }

        await loop.WaitAsync(WaitLimit);
        attempts.ShouldBe([Start, Start.AddSeconds(1), Start.AddSeconds(3)]);
        time.GetUtcNow().ShouldBe(Start.AddSeconds(7));
    }
}
