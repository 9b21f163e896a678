using System.Net.Http.Headers;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Langfuse.Agents.Internal.Http;

/// <summary>
/// Which failures are worth another attempt and how long to wait before it: one small pure piece, tested with
/// tables. Exponential backoff with full jitter; a server's <c>Retry-After</c> wins but is clamped to
/// [<see cref="MinRetryAfter"/>, max delay] so neither <c>0</c> nor <c>3600</c> can produce a hot loop or a stall.
/// The one place a back-off is computed: Polly's retry, the exporter's per-event retry and the forwarder's rounds all
/// ask it, with jitter from one injectable random source (so a test can pin it).
/// </summary>
internal sealed class RetryPolicy
{
    public static readonly TimeSpan MinRetryAfter = TimeSpan.FromMilliseconds(100);

    private readonly Func<double> _random;

    /// <param name="baseDelay">The first retry's ceiling.</param>
    /// <param name="maxDelay">No wait is longer.</param>
    /// <param name="random">Uniform numbers in [0, 1) for the jitter; <see cref="Random.Shared"/> when null.</param>
    public RetryPolicy(TimeSpan baseDelay, TimeSpan maxDelay, Func<double>? random = null)
    {
        BaseDelay = baseDelay > TimeSpan.Zero ? baseDelay : MinRetryAfter;
        MaxDelay = maxDelay >= MinRetryAfter ? maxDelay : MinRetryAfter;
        _random = random ?? Random.Shared.NextDouble;
    }

    public TimeSpan BaseDelay { get; }

    public TimeSpan MaxDelay { get; }

    /// <summary>408, 429 and every 5xx: the server may answer differently next time. 400, 401, 403, 404, 413: it will not.</summary>
    public static bool IsRetryableStatus(int statusCode) => statusCode is 408 or 429 or (>= 500 and <= 599);

    /// <summary>Network errors and attempt timeouts are retryable; cancellation by the caller and an open circuit are not.</summary>
    public static bool IsRetryableException(Exception exception, CancellationToken callerToken) => exception switch
    {
        BrokenCircuitException or IsolatedCircuitException => false,
        TimeoutRejectedException => true,
        HttpRequestException or IOException => true,
        OperationCanceledException => !callerToken.IsCancellationRequested, // HttpClient's own timeout
        _ => false,
    };

    /// <summary>The wait before retry number <paramref name="attempt"/> (0 for the first retry).</summary>
    /// <param name="attempt">Zero-based retry number.</param>
    /// <param name="retryAfter">The server's <c>Retry-After</c>, if it sent one.</param>
    /// <param name="random">A uniform number in [0, 1) for the jitter.</param>
    /// <returns>
    /// The delay, never above <see cref="MaxDelay"/>, in whole milliseconds: timers wait whole milliseconds, so a
    /// reported 0.4 ms would really be no wait at all.
    /// </returns>
    public TimeSpan GetDelay(int attempt, TimeSpan? retryAfter, double random)
    {
        if (retryAfter is { } serverDelay)
        {
            return WholeMilliseconds(Clamp(serverDelay, MinRetryAfter, MaxDelay));
        }

        var exponent = Math.Clamp(attempt, 0, 30);
        var ceilingTicks = Math.Min(MaxDelay.Ticks, BaseDelay.Ticks * (double)(1L << exponent));
        return WholeMilliseconds(TimeSpan.FromTicks((long)(ceilingTicks * Math.Clamp(random, 0, 1))));
    }

    /// <summary>The wait before retry number <paramref name="attempt"/> of one request, with full jitter from the policy's random source.</summary>
    /// <param name="attempt">Zero-based retry number.</param>
    /// <param name="retryAfter">The server's <c>Retry-After</c>, if it sent one.</param>
    public TimeSpan NextDelay(int attempt, TimeSpan? retryAfter) => GetDelay(attempt, retryAfter, _random());

    /// <summary>
    /// The wait after <paramref name="failures"/> failed rounds of delivery from disk (0 for the first): half the
    /// ceiling plus jitter over the other half, and never under <see cref="MinRetryAfter"/>, so a backlog during an
    /// outage is neither hammered nor left waiting longer than the ceiling.
    /// </summary>
    public TimeSpan NextRoundDelay(int failures)
    {
        var delay = GetDelay(failures, null, 0.5 + (_random() / 2));
        return delay < MinRetryAfter ? MinRetryAfter : delay;
    }

    private static TimeSpan WholeMilliseconds(TimeSpan value) =>
        TimeSpan.FromTicks(value.Ticks - (value.Ticks % TimeSpan.TicksPerMillisecond));

    /// <summary>Reads <c>Retry-After</c> as seconds or as an HTTP date; a date in the past means "now".</summary>
    /// <param name="header">The parsed header, or null when absent or garbage.</param>
    /// <param name="now">The current time, for HTTP dates.</param>
    /// <returns>The requested wait, or null.</returns>
    public static TimeSpan? ParseRetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header is null)
        {
            return null;
        }

        if (header.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) =>
        value < min ? min : value > max ? max : value;
}
