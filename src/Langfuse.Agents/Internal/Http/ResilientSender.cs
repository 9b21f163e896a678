using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Pipeline;
using Langfuse.Agents.Internal.Timing;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Langfuse.Agents.Internal.Http;

/// <summary>
/// Runs one request through the Polly pipeline: retry (outermost) -> circuit breaker -> attempt timeout.
/// Returns the final answer; throws only what no retry can fix (<see cref="BrokenCircuitException"/>, the
/// caller's cancellation, or the last transient exception once retries are exhausted).
/// Every attempt's outcome feeds <see cref="Health"/>, which logs an outage once and its end once.
/// </summary>
internal sealed class ResilientSender
{
    private readonly ResiliencePipeline<ApiResponse> _pipeline;

    public ResilientSender(LangfuseOptions options, TimeProvider timeProvider, LangfuseMetrics metrics, ILogger logger, ShutdownSignal? shutdown = null, IdleProbe? probe = null, Func<double>? random = null)
    {
        shutdown ??= new ShutdownSignal();
        Policy = new RetryPolicy(options.RetryBaseDelay, options.MaxRetryDelay, random);
        Health = new DeliveryHealth(logger, timeProvider);
        Waits = WaitingTimeProvider.For(timeProvider, probe);

        // The breaker and the attempt timeout run on the plain clock; the retry's delays on Waits, so that a test hook
        // knows the sender is waiting for its next attempt (and Polly's own timeout timers are not mistaken for waits).
        var inner = new ResiliencePipelineBuilder<ApiResponse> { TimeProvider = timeProvider };
        inner.AddCircuitBreaker(new CircuitBreakerStrategyOptions<ApiResponse>
        {
            // Polly's breaker counts a failure ratio over a window; a ratio of 1 with a minimum throughput of N
            // opens after N failures with no success in between: "a handful of consecutive failures".
            FailureRatio = 1.0,
            MinimumThroughput = Math.Max(2, options.CircuitBreakerFailures),
            SamplingDuration = TimeSpan.FromMinutes(5),
            BreakDuration = options.CircuitBreakDuration,
            ShouldHandle = static args => ValueTask.FromResult(IsTransient(args.Outcome, args.Context.CancellationToken)),
            OnOpened = args =>
            {
                // Part of the outage the health line already reported: details only at Debug.
                Log.CircuitOpened(logger, args.BreakDuration, Describe(args.Outcome));
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                Log.CircuitClosed(logger);
                return ValueTask.CompletedTask;
            },
        });
        inner.AddTimeout(options.Timeout);

        var builder = new ResiliencePipelineBuilder<ApiResponse> { TimeProvider = Waits };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<ApiResponse>
            {
                MaxRetryAttempts = options.MaxRetries,
                ShouldHandle = args => ValueTask.FromResult(
                    IsTransient(args.Outcome, args.Context.CancellationToken) && !(shutdown.IsSet && args.Outcome.Exception is not null)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    Policy.NextDelay(args.AttemptNumber, args.Outcome.Result?.RetryAfter)),
                OnRetry = args =>
                {
                    Log.Retrying(logger, args.AttemptNumber + 1, Describe(args.Outcome), args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }

        builder.AddPipeline(inner.Build());
        _pipeline = builder.Build();
        Metrics = metrics;
    }

    public RetryPolicy Policy { get; }

    /// <summary>Whether delivery is failing now, and the two log lines of an outage.</summary>
    public DeliveryHealth Health { get; }

    /// <summary>The clock for waits between attempts (the exporter's per-event back-off uses it too).</summary>
    public TimeProvider Waits { get; }

    private LangfuseMetrics Metrics { get; }

    public async Task<ApiResponse> SendAsync(Func<CancellationToken, Task<ApiResponse>> send, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            var outcome = await _pipeline.ExecuteOutcomeAsync(
                static async (ctx, state) =>
                {
                    if (state.Attempts++ > 0)
                    {
                        state.Metrics.Retried(); // counted when the retry is really sent, not when it is scheduled
                    }

                    state.Metrics.RequestSent();
                    Outcome<ApiResponse> attempt;
                    try
                    {
                        attempt = Outcome.FromResult(await state.Send(ctx.CancellationToken).ConfigureAwait(false));
                    }
                    catch (Exception ex)
                    {
                        attempt = Outcome.FromException<ApiResponse>(ex);
                    }

                    state.Observe(attempt);
                    return attempt;
                },
                context,
                new AttemptState(send, Metrics, Health, cancellationToken)).ConfigureAwait(false);
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private sealed class AttemptState(Func<CancellationToken, Task<ApiResponse>> send, LangfuseMetrics metrics, DeliveryHealth health, CancellationToken callerToken)
    {
        public Func<CancellationToken, Task<ApiResponse>> Send { get; } = send;

        public LangfuseMetrics Metrics { get; } = metrics;

        public int Attempts { get; set; }

        public void Observe(Outcome<ApiResponse> attempt)
        {
            if (attempt.Result is { IsSuccess: true })
            {
                health.Succeeded();
            }
            else if (IsTransient(attempt, callerToken))
            {
                health.AttemptFailed(Describe(attempt));
            }
        }
    }

    private static bool IsTransient(Outcome<ApiResponse> outcome, CancellationToken token) =>
        outcome.Exception is { } ex
            ? RetryPolicy.IsRetryableException(ex, token)
            : outcome.Result is { } result && RetryPolicy.IsRetryableStatus(result.StatusCode);

    private static string Describe(Outcome<ApiResponse> outcome) =>
        outcome.Exception is { } ex ? $"{ex.GetType().Name}: {ex.Message}" : $"HTTP {outcome.Result?.StatusCode}";
}
