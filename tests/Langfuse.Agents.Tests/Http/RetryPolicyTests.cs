using System.Net.Http.Headers;
using Langfuse.Agents.Internal.Http;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Http;

public sealed class RetryPolicyTests
{
    private readonly RetryPolicy _policy = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30));

    [Theory]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(599, true)]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(403, false)]
    [InlineData(404, false)]
    [InlineData(413, false)]
    [InlineData(200, false)]
    [InlineData(207, false)]
    public void IsRetryableStatus(int status, bool expected) => RetryPolicy.IsRetryableStatus(status).ShouldBe(expected);

    [Fact]
    public void Exceptions_NetworkAndTimeoutsRetry_CircuitAndCallerCancellationDoNot()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        RetryPolicy.IsRetryableException(new HttpRequestException("refused"), CancellationToken.None).ShouldBeTrue();
        RetryPolicy.IsRetryableException(new IOException("reset"), CancellationToken.None).ShouldBeTrue();
        RetryPolicy.IsRetryableException(new TimeoutRejectedException(), CancellationToken.None).ShouldBeTrue();
        RetryPolicy.IsRetryableException(new TaskCanceledException(), CancellationToken.None).ShouldBeTrue();
        RetryPolicy.IsRetryableException(new TaskCanceledException(), cancelled.Token).ShouldBeFalse();
        RetryPolicy.IsRetryableException(new BrokenCircuitException(), CancellationToken.None).ShouldBeFalse();
        RetryPolicy.IsRetryableException(new InvalidOperationException(), CancellationToken.None).ShouldBeFalse();
    }

    [Theory]
    [InlineData(0, 0.0, 0)]
    [InlineData(0, 0.999, 249)]
    [InlineData(1, 0.5, 250)]
    [InlineData(3, 1.0, 2000)]
    [InlineData(20, 1.0, 30_000)] // capped by the maximum delay
    [InlineData(int.MaxValue, 1.0, 30_000)]
    public void Backoff_IsExponentialWithFullJitterAndCapped(int attempt, double random, int expectedMs) =>
        _policy.GetDelay(attempt, null, random).TotalMilliseconds.ShouldBe(expectedMs, tolerance: 1);

    [Theory]
    [InlineData(0, 100)] // Retry-After: 0 must not become a hot loop
    [InlineData(1, 1000)]
    [InlineData(30, 30_000)]
    [InlineData(3600, 30_000)] // clamped to the ceiling
    public void RetryAfter_IsHonouredButClamped(int seconds, int expectedMs) =>
        _policy.GetDelay(0, TimeSpan.FromSeconds(seconds), 0.5).TotalMilliseconds.ShouldBe(expectedMs);

    [Fact]
    public void ParseRetryAfter_ReadsSecondsAndDates()
    {
        var now = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
        RetryPolicy.ParseRetryAfter(new RetryConditionHeaderValue(TimeSpan.FromSeconds(7)), now).ShouldBe(TimeSpan.FromSeconds(7));
        RetryPolicy.ParseRetryAfter(new RetryConditionHeaderValue(now.AddSeconds(12)), now).ShouldBe(TimeSpan.FromSeconds(12));
        RetryPolicy.ParseRetryAfter(new RetryConditionHeaderValue(now.AddSeconds(-12)), now).ShouldBe(TimeSpan.Zero);
        RetryPolicy.ParseRetryAfter(null, now).ShouldBeNull();
    }

    [Fact]
    public void GarbageRetryAfter_IsNotParsedByHttpHeaders_SoBackoffApplies()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("Retry-After", "soon-ish");
        RetryPolicy.ParseRetryAfter(response.Headers.RetryAfter, DateTimeOffset.UtcNow).ShouldBeNull();
    }

    [Theory]
    [InlineData(0, 0.0, 0)]
    [InlineData(0, 0.5, 125)]
    [InlineData(3, 0.5, 1_000)]
    [InlineData(20, 0.999, 29_970)]
    public void NextDelay_TakesItsJitterFromTheInjectedSource(int attempt, double random, int expectedMs) =>
        new RetryPolicy(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30), () => random).NextDelay(attempt, null)
            .ShouldBe(TimeSpan.FromMilliseconds(expectedMs));

    [Fact]
    public void NextDelay_HonoursRetryAfter_WhateverTheJitter() =>
        new RetryPolicy(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30), () => 0.0).NextDelay(0, TimeSpan.FromSeconds(7))
            .ShouldBe(TimeSpan.FromSeconds(7));

    [Theory]
    [InlineData(0, 0.0, 125)] // half of the 250 ms ceiling
    [InlineData(0, 0.998, 249)]
    [InlineData(2, 0.0, 500)]
    [InlineData(20, 0.0, 15_000)]
    public void NextRoundDelay_IsHalfTheCeilingPlusJitter(int failures, double random, int expectedMs) =>
        new RetryPolicy(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30), () => random).NextRoundDelay(failures)
            .ShouldBe(TimeSpan.FromMilliseconds(expectedMs));

    [Fact]
    public void NextRoundDelay_NeverUnderTheFloor_SoAnOutageIsNotAHotLoop() =>
        new RetryPolicy(TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(30), () => 0.0).NextRoundDelay(0)
            .ShouldBe(RetryPolicy.MinRetryAfter);
}
