using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Pipeline;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Langfuse.Agents.Internal.Http;

/// <summary>
/// Runs one request through the Polly pipeline: retry (outermost) -> circuit breaker -> attempt timeout.
/// Returns the final answer; throws only what no retry can fix (<see cref="BrokenCircuitException"/>, the
/// caller's cancellation, or the last transient exception once retries are exhausted).
/// </summary>
internal sealed class ResilientSender
{
    private readonly ResiliencePipeline<ApiResponse> _pipeline;

    public ResilientSender(LangfuseOptions options, TimeProvider timeProvider, LangfuseMetrics metrics, ILogger logger, ShutdownSignal? shutdown = null)
    {
        shutdown ??= new ShutdownSignal();
        Policy = new RetryPolicy(options.RetryBaseDelay, options.MaxRetryDelay);
        var builder = new ResiliencePipelineBuilder<ApiResponse> { TimeProvider = timeProvider };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<ApiResponse>
            {
                MaxRetryAttempts = options.MaxRetries,
                ShouldHandle = args => ValueTask.FromResult(
                    IsTransient(args.Outcome, args.Context.CancellationToken) && !(shutdown.IsSet && args.Outcome.Exception is not null)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    Policy.GetDelay(args.AttemptNumber, args.Outcome.Result?.RetryAfter, Random.Shared.NextDouble())),
                OnRetry = args =>
                {
                    Log.Retrying(logger, args.AttemptNumber + 1, Describe(args.Outcome), args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }

        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<ApiResponse>
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
                Log.CircuitOpened(logger, args.BreakDuration, Describe(args.Outcome));
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                Log.CircuitClosed(logger);
                return ValueTask.CompletedTask;
            },
        });
        builder.AddTimeout(options.Timeout);
        _pipeline = builder.Build();
        Metrics = metrics;
    }

    public RetryPolicy Policy { get; }

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
                    try
                    {
                        return Outcome.FromResult(await state.Send(ctx.CancellationToken).ConfigureAwait(false));
                    }
                    catch (Exception ex)
                    {
                        return Outcome.FromException<ApiResponse>(ex);
                    }
                },
                context,
                new AttemptState(send, Metrics)).ConfigureAwait(false);
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private sealed class AttemptState(Func<CancellationToken, Task<ApiResponse>> send, LangfuseMetrics metrics)
    {
        public Func<CancellationToken, Task<ApiResponse>> Send { get; } = send;

        public LangfuseMetrics Metrics { get; } = metrics;

        public int Attempts { get; set; }
    }

    private static bool IsTransient(Outcome<ApiResponse> outcome, CancellationToken token) =>
        outcome.Exception is { } ex
            ? RetryPolicy.IsRetryableException(ex, token)
            : outcome.Result is { } result && RetryPolicy.IsRetryableStatus(result.StatusCode);

    private static string Describe(Outcome<ApiResponse> outcome) =>
        outcome.Exception is { } ex ? $"{ex.GetType().Name}: {ex.Message}" : $"HTTP {outcome.Result?.StatusCode}";
}
