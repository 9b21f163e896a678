using Langfuse.Agents.Testing;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Agents;

public sealed class LangfuseRetryExtensionsTests : IDisposable
{
    private readonly AgentTestTracer _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public async Task RunWithRetriesAsync_ThreeAttempts_AreThreeObservations_NeverOverwritten()
    {
        string result;
        using (_t.Tracer.StartAgent("searcher"))
        {
            result = await _t.Tracer.RunWithRetriesAsync("web_search", ObservationType.Tool, maxAttempts: 5, async (attempt, number) =>
            {
                await Task.Yield();
                attempt.Input = new { query = "quantum", number };
                return number switch
                {
                    1 => throw new TimeoutException("search took 30 s"),
                    2 => throw new HttpRequestException("slow down", null, System.Net.HttpStatusCode.TooManyRequests),
                    _ => "3 results",
                };
            });
        }

        result.ShouldBe("3 results");
        var searcher = _t.Single("searcher");
        var attempts = _t.Capture.Observations.Where(o => o.Name == "web_search").OrderBy(o => o.Metadata[AgentMetadataKeys.Attempt]).ToList();
        attempts.Count.ShouldBe(3);
        attempts.Select(a => a.Id).Distinct().Count().ShouldBe(3);
        attempts.ShouldAllBe(a => a.Type == ObservationType.Tool && a.ParentId == searcher.Id);
        attempts.Select(a => a.Metadata[AgentMetadataKeys.Attempt]).ShouldBe(new object?[] { 1, 2, 3 });

        attempts[0].Level.ShouldBe(ObservationLevel.Error);
        attempts[0].StatusMessage.ShouldBe("tool/timeout: search took 30 s");
        attempts[0].Metadata.ContainsKey(AgentMetadataKeys.RetryReason).ShouldBeFalse();
        attempts[1].Level.ShouldBe(ObservationLevel.Error);
        attempts[1].StatusMessage.ShouldBe("tool/rate_limited: slow down");
        attempts[1].Metadata[AgentMetadataKeys.RetryReason].ShouldBe("timeout");
        attempts[2].Level.ShouldBe(ObservationLevel.Default);
        attempts[2].Metadata[AgentMetadataKeys.RetryReason].ShouldBe("rate_limited");
        attempts[2].StatusMessage.ShouldBeNull();

        _t.Capture.Scores.Select(s => (s.ObservationId, s.Value.Text))
            .ShouldBe([(attempts[0].Id, "tool/timeout"), (attempts[1].Id, "tool/rate_limited")]);
    }

    [Fact]
    public async Task RunWithRetriesAsync_WhenEveryAttemptFails_RethrowsTheLastExceptionUnchanged()
    {
        var last = new TimeoutException("third");
        using (_t.Tracer.StartSpan("root"))
        {
            var thrown = await Should.ThrowAsync<TimeoutException>(() => _t.Tracer.RunWithRetriesAsync(
                "call", ObservationType.Tool, maxAttempts: 3, (_, number) => number == 3 ? throw last : throw new TimeoutException("earlier")));
            thrown.ShouldBeSameAs(last);
        }

        var attempts = _t.Capture.Observations.Where(o => o.Name == "call").ToList();
        attempts.Count.ShouldBe(3);
        attempts.ShouldAllBe(a => a.Level == ObservationLevel.Error && a.IsEnded);
        attempts.Single(a => (int)a.Metadata[AgentMetadataKeys.Attempt]! == 3).Exception.ShouldBeSameAs(last);
        LangfuseTracer.CurrentObservation.ShouldBeNull();
    }

    [Fact]
    public async Task RunWithRetriesAsync_StopsWhenShouldRetrySaysNo()
    {
        using (_t.Tracer.StartSpan("root"))
        {
            await Should.ThrowAsync<UnauthorizedAccessException>(() => _t.Tracer.RunWithRetriesAsync(
                "call",
                ObservationType.Tool,
                maxAttempts: 3,
                (_, _) => throw new UnauthorizedAccessException("no"),
                new AgentRetryOptions { ShouldRetry = ex => ex is not UnauthorizedAccessException, FailureType = FailureType.Model, Classify = _ => "auth" }));
        }

        var only = _t.Single("call");
        only.StatusMessage.ShouldBe("model/auth: no");
    }

    [Fact]
    public async Task RunWithRetriesAsync_AttemptThatReportsAFailureWithoutThrowing_IsRetried()
    {
        using (_t.Tracer.StartSpan("root"))
        {
            var answer = await _t.Tracer.RunWithRetriesAsync("extract", ObservationType.Generation, maxAttempts: 2, (attempt, number) =>
            {
                if (number == 1)
                {
                    attempt.RecordFailure(FailureType.Model, FailureCode.SchemaInvalid, "missing field 'title'");
                    return Task.FromResult("{}");
                }

                return Task.FromResult("""{"title":"x"}""");
            });
            answer.ShouldBe("""{"title":"x"}""");
        }

        var attempts = _t.Capture.Observations.Where(o => o.Name == "extract").ToList();
        attempts.Count.ShouldBe(2);
        attempts[1].Metadata[AgentMetadataKeys.RetryReason].ShouldBe("schema_invalid");
        attempts[1].Level.ShouldBe(ObservationLevel.Default);
    }

    [Fact]
    public async Task RunWithRetriesAsync_CancelledByTheCaller_IsRecordedAsCancelledAndNotRetried()
    {
        using var cts = new CancellationTokenSource();
        using (_t.Tracer.StartSpan("root"))
        {
            await Should.ThrowAsync<OperationCanceledException>(() => _t.Tracer.RunWithRetriesAsync(
                "call",
                ObservationType.Tool,
                maxAttempts: 3,
                async (_, _) =>
                {
                    await cts.CancelAsync();
                    cts.Token.ThrowIfCancellationRequested();
                },
                cancellationToken: cts.Token));
        }

        _t.Single("call").StatusMessage.ShouldNotBeNull().ShouldStartWith("tool/cancelled");
    }

    [Fact]
    public async Task RunWithRetriesAsync_WaitsTheDelayOnTheGivenClock()
    {
        var clock = new FakeTimeProvider(FakeClock.Start);
        Task<int> run;
        using (_t.Tracer.StartSpan("root"))
        {
            run = _t.Tracer.RunWithRetriesAsync(
                "call",
                ObservationType.Tool,
                maxAttempts: 2,
                (_, number) => number == 1 ? throw new TimeoutException() : Task.FromResult(number),
                new AgentRetryOptions { Delay = n => TimeSpan.FromSeconds(n * 10), TimeProvider = clock });
        }

        // The first attempt throws synchronously, so the delay's timer is armed before RunWithRetriesAsync returns:
        // nothing to wait for (an Advance made before it would be lost, and the run would hang until the guard).
        run.IsCompleted.ShouldBeFalse();
        clock.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        run.IsCompleted.ShouldBeFalse("the delay is 10 s on the given clock");
        clock.Advance(TimeSpan.FromMilliseconds(1));
        (await run.WaitAsync(LoadedMachine.HangGuard)).ShouldBe(2);
    }

    [Fact]
    public void StartAttempt_RecordsAttemptAndReason_OnEachObservation()
    {
        using (var agent = _t.Tracer.StartAgent("writer"))
        {
            using (var first = agent.StartAttempt("draft", 1, type: ObservationType.Generation))
            {
                first.RecordFailure(FailureType.Model, FailureCode.ContextLengthExceeded);
            }

            using (_t.Tracer.StartAttempt("draft", 2, reason: "context_length_exceeded", type: ObservationType.Generation))
            {
            }
        }

        var drafts = _t.Capture.Observations.Where(o => o.Name == "draft").ToList();
        drafts.Count.ShouldBe(2);
        drafts.ShouldAllBe(d => d.Type == ObservationType.Generation && d.ParentId == _t.Single("writer").Id);
        drafts[0].Metadata[AgentMetadataKeys.Attempt].ShouldBe(1);
        drafts[0].Level.ShouldBe(ObservationLevel.Error);
        drafts[1].Metadata[AgentMetadataKeys.Attempt].ShouldBe(2);
        drafts[1].Metadata[AgentMetadataKeys.RetryReason].ShouldBe("context_length_exceeded");
    }
}
