using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Internal.Http;
using Langfuse.Agents.Internal.Timing;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.EndToEnd;

/// <summary>
/// A tracer against a real HTTP fake of Langfuse that fails on purpose: retries, rate limits, rejections, dropped
/// connections, an open circuit, 413 splitting, the legacy fallback, per-event errors, sampling, masking, shutdown
/// and bad configuration. After every scenario the counters must add up, and no log line may contain a key.
/// </summary>
public sealed partial class FaultToleranceTests : EndToEndTestBase
{
    /// <summary>The tracers' background actors say when they are parked on the clock: tests step the clock only then.</summary>
    private readonly IdleProbe _idle = new();

    // ---- Retries -------------------------------------------------------------------------------------------

    [Fact]
    public async Task Export_WhenServerAnswers503Once_RetriesAndDelivers()
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server);
        server.Enqueue(FakeResponse.Status(503));

        EndSpan(tracer, "after-503");
        await FlushAsync(tracer);

        server.Spans.Select(s => s.Name).ShouldBe(["after-503"]);
        server.Requests.Select(r => r.StatusCode).ShouldBe([503, 200]);
        var stats = tracer.GetStatistics();
        stats.Retries.ShouldBe(1);
        stats.Exported.ShouldBe(1);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenServerAnswers429WithRetryAfter2_WaitsTwoSecondsOfFakeTimeBeforeRetrying()
    {
        var server = await StartServerAsync();
        var time = new FakeTimeProvider(FakeClock.Start);
        var tracer = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(250);
            o.MaxRetryDelay = TimeSpan.FromSeconds(30);
        }, time);
        server.Enqueue(FakeResponse.Status(429, retryAfter: "2"));

        EndSpan(tracer, "rate-limited");
        var retry = await Logs.WaitForAsync(IsRetry, description: "a retry");
        retry.Value("Delay").ShouldBe(TimeSpan.FromSeconds(2));
        await _idle.WaitIdleAsync(RealTimeGuard); // the sender is waiting for its retry, on the tracer's clock

        time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(1));
        server.Requests.Count.ShouldBe(1, "the retry must wait the whole Retry-After");
        _idle.Running.ShouldBe(0, "the retry is still waiting for the clock");

        time.Advance(TimeSpan.FromMilliseconds(1));
        await server.WaitForSpansAsync(1);
        await FlushAsync(tracer);

        server.Requests.Select(r => r.StatusCode).ShouldBe([429, 200]);
        tracer.GetStatistics().Retries.ShouldBe(1);
        AssertAccounting(tracer);
    }

    [Theory]
    [InlineData("0", 100, 100)]
    [InlineData("3600", 10_000, 10_000)]
    [InlineData("Thu, 01 Jan 2026 01:00:00 GMT", 10_000, 10_000)] // an hour after the fake clock's start
    [InlineData("Wed, 01 Jan 2025 00:00:00 GMT", 100, 100)] // in the past
    [InlineData("garbage", 0, 1_000)] // ignored: ordinary backoff, at most RetryBaseDelay on the first retry
    public async Task Export_WhenRetryAfterIsExtremeOrInvalid_WaitsNeitherBeyondMaxRetryDelayNorZero(string retryAfter, int minMs, int maxMs)
    {
        var server = await StartServerAsync();
        var time = new FakeTimeProvider(FakeClock.Start);
        var tracer = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.RetryBaseDelay = TimeSpan.FromSeconds(1);
            o.MaxRetryDelay = TimeSpan.FromSeconds(10);
        }, time);
        server.Enqueue(FakeResponse.Status(429, retryAfter));

        EndSpan(tracer, "rate-limited");
        var delay = (TimeSpan)(await Logs.WaitForAsync(IsRetry, description: "a retry")).Value("Delay")!;

        delay.ShouldBeInRange(TimeSpan.FromMilliseconds(minMs), TimeSpan.FromMilliseconds(maxMs));
        if (delay > TimeSpan.Zero)
        {
            // Delays are whole milliseconds, so any delay above zero is a real wait on the clock.
            await _idle.WaitIdleAsync(RealTimeGuard);
            server.Requests.Count.ShouldBe(1);
            time.Advance(delay);
        }

        await server.WaitForSpansAsync(1);
        await FlushAsync(tracer);
        server.Requests.Select(r => r.StatusCode).ShouldBe([429, 200], "one wait, one retry: no hot loop");
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenServerKeepsAnswering429WithRetryAfter0_EveryRetryWaitsOnTheClock_ThenDropsAsExportFailed()
    {
        var server = await StartServerAsync();
        var time = new FakeTimeProvider(FakeClock.Start);
        var tracer = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.MaxRetries = 3;
        }, time);
        server.FailAll(429, retryAfter: "0");

        EndSpan(tracer, "rate-limited");
        for (var retry = 1; retry <= 3; retry++)
        {
            await Logs.WaitForCountAsync(IsRetry, retry);
            server.Requests.Count.ShouldBe(retry, $"retry {retry} must not be sent before the clock moves");
            Logs.Entries.Where(IsRetry).Last().Value("Delay").ShouldBe(RetryPolicy.MinRetryAfter);
            await _idle.WaitIdleAsync(RealTimeGuard);
            server.Requests.Count.ShouldBe(retry, "parked: nothing more is sent until the clock moves");
            time.Advance(RetryPolicy.MinRetryAfter);
        }

        await FlushAsync(tracer);
        server.Requests.Count.ShouldBe(4);
        tracer.GetStatistics().Dropped[DropReason.ExportFailed].ShouldBe(1);
        AssertAccounting(tracer);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    public async Task Export_WhenServerAnswersAClientError_DoesNotRetry_AndCountsRejected(int status)
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server);
        server.Enqueue(FakeResponse.Status(status));

        EndSpan(tracer, "refused");
        await FlushAsync(tracer);

        server.Requests.Count.ShouldBe(1);
        var stats = tracer.GetStatistics();
        stats.Retries.ShouldBe(0);
        stats.Dropped[DropReason.Rejected].ShouldBe(1);
        var expectedEvent = status switch { 400 => 14, 401 => 23, _ => 24 };
        Logs.Entries.ShouldContain(e => e.EventId.Id == expectedEvent && e.Message.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenTheKeysAreWrong_LogsOneClearErrorWithoutTheKeys()
    {
        const string wrongPublic = "pk-lf-wrong-0d1e2f";
        const string wrongSecret = "sk-lf-wrong-9a8b7c";
        AddSecrets(wrongPublic, wrongSecret);
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, o =>
        {
            o.PublicKey = wrongPublic;
            o.SecretKey = wrongSecret;
        });

        EndSpan(tracer, "unauthorized");
        await FlushAsync(tracer);

        server.Requests.Select(r => r.StatusCode).ShouldBe([401]);
        var error = Logs.Entries.Single(e => e.EventId.Id == 23);
        error.Level.ShouldBe(Microsoft.Extensions.Logging.LogLevel.Error);
        error.Message.ShouldContain("HTTP 401");
        error.Message.ShouldContain("LANGFUSE_SECRET_KEY");
        tracer.GetStatistics().Dropped[DropReason.Rejected].ShouldBe(1);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenTheConnectionDrops_RetriesAndDelivers()
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server);
        server.Enqueue(FakeResponse.DropConnection());

        EndSpan(tracer, "after-drop");
        await FlushAsync(tracer);

        server.Spans.Select(s => s.Name).ShouldBe(["after-drop"]);
        server.Requests[0].StatusCode.ShouldBe(0, "the first attempt was cut off");
        tracer.GetStatistics().Retries.ShouldBe(1);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenServerKeepsAnswering503_DropsTheBatchAsExportFailedAfterMaxRetriesPlusOneRequests()
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, o => o.MaxRetries = 3);
        server.FailAll(503);

        EndSpan(tracer, "lost-1");
        EndSpan(tracer, "lost-2");
        await FlushAsync(tracer);

        server.Requests.Count.ShouldBe(4);
        var stats = tracer.GetStatistics();
        stats.Retries.ShouldBe(3);
        stats.Dropped[DropReason.ExportFailed].ShouldBe(2);
        Logs.Entries.ShouldContain(e => e.EventId.Id == 42 && e.Message.Contains("export_failed", StringComparison.Ordinal));
        var warning = Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).ShouldHaveSingleItem("four failed attempts, one outage, one warning");
        warning.EventId.Id.ShouldBe(40);
        warning.Message.ShouldContain("HTTP 503");
        Logs.Entries.ShouldAllBe(e => e.Exception == null, "no stack traces without LANGFUSE_DEBUG");
        AssertAccounting(tracer);
    }

    // ---- Circuit breaker -----------------------------------------------------------------------------------

    [Fact]
    public async Task Export_AfterCircuitBreakerFailuresConsecutiveFailures_SkipsRequestsAsCircuitOpen_UntilTheBreakEnds()
    {
        var server = await StartServerAsync();
        var time = new FakeTimeProvider(FakeClock.Start);
        var tracer = CreateTracer(server, o =>
        {
            o.MaxRetries = 0;
            o.CircuitBreakerFailures = 2;
            o.CircuitBreakDuration = TimeSpan.FromSeconds(30);
        }, time);
        server.FailAll(503);

        EndSpan(tracer, "failed-1");
        await FlushAsync(tracer);
        EndSpan(tracer, "failed-2");
        await FlushAsync(tracer);
        server.Requests.Count.ShouldBe(2);
        Logs.Entries.ShouldContain(e => e.EventId.Id == 12);

        EndSpan(tracer, "skipped");
        await FlushAsync(tracer);
        server.Requests.Count.ShouldBe(2, "an open circuit sends nothing");
        var stats = tracer.GetStatistics();
        stats.Dropped[DropReason.ExportFailed].ShouldBe(2);
        stats.Dropped[DropReason.CircuitOpen].ShouldBe(1);

        server.Heal();
        time.Advance(TimeSpan.FromSeconds(30));
        EndSpan(tracer, "recovered");
        await FlushAsync(tracer);

        server.Spans.Select(s => s.Name).ShouldBe(["recovered"]);
        Logs.Entries.ShouldContain(e => e.EventId.Id == 13);
        AssertAccounting(tracer);
    }

    // ---- Size limits ---------------------------------------------------------------------------------------

    [Fact]
    public async Task Export_WhenServerAnswers413_SplitsTheBatchAndDeliversEveryItem()
    {
        // One span with a 2,000-character input is about 2.4 KB of OTLP; two are about 4.6 KB.
        var server = await StartServerAsync(o => o.MaxOtlpBodyBytes = 3_500);
        var tracer = CreateTracer(server);

        for (var i = 0; i < 4; i++)
        {
            EndSpan(tracer, $"big-{i}", input: new string((char)('a' + i), 2_000));
        }

        await FlushAsync(tracer);

        server.Spans.Select(s => s.Name).Order().ShouldBe(["big-0", "big-1", "big-2", "big-3"]);
        server.Requests.Count(r => r.StatusCode == 413).ShouldBe(3, "4 -> 2 + 2 -> 1 + 1 + 1 + 1");
        var stats = tracer.GetStatistics();
        stats.Exported.ShouldBe(4);
        stats.Dropped[DropReason.TooLarge].ShouldBe(0);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenASingleSpanIsOverTheServerLimit_DropsItAsTooLarge_AndDeliversTheRest()
    {
        var server = await StartServerAsync(o => o.MaxOtlpBodyBytes = 3_500);
        var tracer = CreateTracer(server);

        EndSpan(tracer, "small", input: "fits");
        EndSpan(tracer, "huge", input: new string('x', 5_000));
        await FlushAsync(tracer);

        server.Spans.Select(s => s.Name).ShouldBe(["small"]);
        var stats = tracer.GetStatistics();
        stats.Dropped[DropReason.TooLarge].ShouldBe(1);
        Logs.Entries.ShouldContain(e => e.EventId.Id == 19);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenTheBatchEndpointAnswers413_SplitsTheBatchAndDeliversEveryEvent()
    {
        // Each root span carries a 2,000-character input, sent twice (its span-create and, as the trace's input, its
        // trace-create): one trace fits under 6,000 bytes, two do not.
        var server = await StartServerAsync(o =>
        {
            o.Version = FakeLangfuseVersion.V3;
            o.MaxIngestionBodyBytes = 6_000;
        });
        var tracer = CreateTracer(server, o => o.IngestionProtocol = IngestionProtocol.Legacy);

        var ids = Enumerable.Range(0, 4).Select(i => EndSpan(tracer, $"big-{i}", input: new string((char)('a' + i), 2_000)).Id).ToList();
        await FlushAsync(tracer);

        server.IngestionEvents.Where(e => e.Type == "span-create").Select(e => e.BodyId).Order().ShouldBe(ids.Order());
        server.Requests.Count(r => r.StatusCode == 413).ShouldBe(3, "4 -> 2 + 2 -> 1 + 1 + 1 + 1");
        server.Violations.ShouldBeEmpty();
        var stats = tracer.GetStatistics();
        stats.Exported.ShouldBe(4);
        stats.Dropped[DropReason.TooLarge].ShouldBe(0);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenAnAttemptOutlivesTimeout_CancelsItRetriesAndDelivers()
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, o => o.Timeout = TimeSpan.FromMilliseconds(300));
        server.Enqueue(FakeResponse.Delay(TimeSpan.FromSeconds(30)));

        EndSpan(tracer, "slow-then-fast");
        await FlushAsync(tracer);

        server.Spans.Select(s => s.Name).ShouldBe(["slow-then-fast"], "the timed-out attempt never reached processing");
        tracer.GetStatistics().Retries.ShouldBeGreaterThanOrEqualTo(1);
        AssertAccounting(tracer);
    }

    // ---- Protocols -----------------------------------------------------------------------------------------

    [Theory]
    [InlineData(FakeLangfuseVersion.V2)]
    [InlineData(FakeLangfuseVersion.V3)]
    public async Task Export_WhenTheOtlpEndpointAnswers404_FallsBackToLegacyOnce_AndSendsLaterBatchesStraightThere(FakeLangfuseVersion version)
    {
        var server = await StartServerAsync(o => o.Version = version);
        if (version == FakeLangfuseVersion.V3)
        {
            server.EnqueueFor(FakePath.Otlp, FakeResponse.Status(404)); // a proxy without the OTLP route
        }

        var tracer = CreateTracer(server);
        var ids = new List<string>
        {
            EndSpan(tracer, "first-1").Id,
            EndSpan(tracer, "first-2").Id,
        };
        await FlushAsync(tracer);
        ids.Add(EndSpan(tracer, "second-1").Id);
        ids.Add(EndSpan(tracer, "second-2").Id);
        await FlushAsync(tracer);

        server.Requests.Count(r => r.Path == FakeLangfuseServer.OtlpPath).ShouldBe(1);
        Logs.Entries.Count(e => e.EventId.Id == 16).ShouldBe(1, "the fallback is announced once");
        server.IngestionEvents.Where(e => e.Type == "span-create").Select(e => e.BodyId).Order().ShouldBe(ids.Order());
        server.Violations.ShouldBeEmpty();
        tracer.GetStatistics().Exported.ShouldBe(4);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WithLegacyProtocolAgainstV3_EveryEventIsAccepted()
    {
        var server = await StartServerAsync(o => o.Version = FakeLangfuseVersion.V3);
        var tracer = CreateTracer(server, o => o.IngestionProtocol = IngestionProtocol.Legacy);

        using (var root = tracer.StartTrace("legacy-trace", sessionId: "s-1", userId: "u-1", input: "question"))
        {
            using (var generation = tracer.StartGeneration("llm", model: "gpt-4o", input: "prompt"))
            {
                generation.Output = "answer";
            }

            root.ScoreTrace("quality", 0.9);
        }

        await FlushAsync(tracer);

        server.Requests.ShouldNotContain(r => r.Path == FakeLangfuseServer.OtlpPath);
        server.IngestionEvents.Select(e => e.Type).ShouldContain("span-create");
        server.IngestionEvents.Select(e => e.Type).ShouldContain("generation-create");
        server.IngestionEvents.Select(e => e.Type).ShouldContain("score-create");
        server.Violations.ShouldBeEmpty();
        server.SilentlyDropped.ShouldBe(0);
        tracer.GetStatistics().Exported.ShouldBe(3);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WithLegacyProtocolAgainstV4_ObservationsAreRejectedPerEvent_ButScoresAreAccepted()
    {
        var server = await StartServerAsync(o => o.Version = FakeLangfuseVersion.V4);
        var tracer = CreateTracer(server, o => o.IngestionProtocol = IngestionProtocol.Legacy);

        using (var root = tracer.StartTrace("legacy-on-v4"))
        {
            using (tracer.StartSpan("child"))
            {
            }

            root.ScoreTrace("quality", 1);
        }

        await FlushAsync(tracer);

        server.IngestionEvents.Select(e => e.Type).ShouldBe(["score-create"]);
        var stats = tracer.GetStatistics();
        stats.Dropped[DropReason.Rejected].ShouldBe(2);
        stats.Exported.ShouldBe(1);
        Logs.Entries.ShouldContain(e => e.EventId.Id == 15 && e.Message.Contains("not accepted", StringComparison.Ordinal));
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_ScoresOnV4_AreSentAsScoreCreateWithTheirBodyId()
    {
        var server = await StartServerAsync(o => o.Version = FakeLangfuseVersion.V4);
        var tracer = CreateTracer(server);

        var scores = new List<LangfuseScore?>();
        using (var root = tracer.StartTrace("scored", sessionId: "session-1"))
        {
            scores.Add(root.ScoreTrace("trace-score", 0.5));
            scores.Add(root.Score("observation-score", true));
            scores.Add(tracer.ScoreSession("session-1", "session-score", ScoreValue.Categorical("good")));
        }

        await FlushAsync(tracer);

        server.Spans.Count.ShouldBe(1);
        server.IngestionEvents.ShouldAllBe(e => e.Type == "score-create");
        server.IngestionEvents.Select(e => e.BodyId).Order().ShouldBe(scores.Select(s => s!.Id).Order());
        server.SilentlyDropped.ShouldBe(0);
        server.Violations.ShouldBeEmpty();
        tracer.GetStatistics().Exported.ShouldBe(4);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenOneEventOfA207FailsWith500_RetriesThatEventOnTheTracersClock_AndItIsAccepted()
    {
        // A back-off of up to a minute that only the fake clock can shorten. The attempt timeout is longer, so
        // the retry's own timeout cannot fall due while the clock jumps.
        var server = await StartServerAsync();
        var time = new FakeTimeProvider(FakeClock.Start);
        var tracer = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.RetryBaseDelay = TimeSpan.FromMinutes(1);
            o.MaxRetryDelay = TimeSpan.FromMinutes(1);
            o.Timeout = TimeSpan.FromMinutes(5);
        }, time);
        server.FailEvent(e => e.Type == "score-create", status: 500, times: 1);

        var score = tracer.ScoreSession("session-1", "quality", 1)!;
        await Logs.WaitForAsync(e => e.EventId.Id == 17, description: "the first 207"); // its per-event 500 is read next
        await _idle.WaitIdleAsync(RealTimeGuard); // the per-event back-off, on the tracer's clock
        server.Requests.Count.ShouldBe(1);

        time.Advance(TimeSpan.FromMinutes(1));
        await server.WaitForEventsAsync(1);
        await FlushAsync(tracer);

        server.IngestionEvents.Single().BodyId.ShouldBe(score.Id);
        server.Requests.Count.ShouldBe(2);
        var stats = tracer.GetStatistics();
        stats.Retries.ShouldBe(1);
        stats.Exported.ShouldBe(1);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenOneEventOfA207KeepsFailingWith500_DropsItAsExportFailedAfterMaxRetries_AndDeliversTheRest()
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, o => o.MaxRetries = 2);
        server.FailEvent(e => e.Name == "doomed", status: 500);

        tracer.ScoreSession("session-1", "doomed", 1);
        tracer.ScoreSession("session-1", "fine", 1);
        await FlushAsync(tracer);

        server.IngestionEvents.Select(e => e.Name).ShouldBe(["fine"]);
        server.Requests.Count.ShouldBe(3, "the first request and two retries of the failed event");
        var stats = tracer.GetStatistics();
        stats.Dropped[DropReason.ExportFailed].ShouldBe(1);
        stats.Exported.ShouldBe(1);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenOneEventOfA207FailsWith400_CountsItRejected_AndLogsTheServersMessage()
    {
        const string message = "Score value does not match the score config";
        var server = await StartServerAsync();
        var tracer = CreateTracer(server);
        server.FailEvent(e => e.Name == "bad-score", status: 400, message: message);

        tracer.ScoreSession("session-1", "bad-score", 1);
        tracer.ScoreSession("session-1", "good-score", 1);
        await FlushAsync(tracer);

        server.IngestionEvents.Select(e => e.Name).ShouldBe(["good-score"]);
        server.Requests.Count.ShouldBe(1, "a per-event 400 is not retried");
        var stats = tracer.GetStatistics();
        stats.Dropped[DropReason.Rejected].ShouldBe(1);
        stats.Exported.ShouldBe(1);
        Logs.Entries.ShouldContain(e => e.EventId.Id == 15 && e.Message.Contains(message, StringComparison.Ordinal));
        AssertAccounting(tracer);
    }

    // ---- Sampling ------------------------------------------------------------------------------------------

    [Fact]
    public async Task Sampling_TwoTracersDecideAlikeForTheSameTraceId_AndScoresFollowTheirTrace()
    {
        var server = await StartServerAsync();
        var first = CreateTracer(server, o => o.SampleRate = 0.5); // two tracers: two processes
        var second = CreateTracer(server, o => o.SampleRate = 0.5);
        using var source = new ActivitySource("Langfuse.Agents.Tests.Sampling");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => ReferenceEquals(s, source),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);

        var sampled = new HashSet<string>();
        var all = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            // A local root Activity (no parent span): each tracer's own sampler decides, from the trace id alone.
            var traceId = ActivityTraceId.CreateRandom();
            using var activity = source.StartActivity("request", ActivityKind.Server, new ActivityContext(traceId, default, ActivityTraceFlags.None))!;
            activity.ParentSpanId.ShouldBe(default);
            bool firstKeeps, secondKeeps;
            using (var span = first.StartSpan("in-first"))
            {
                span.TraceId.ShouldBe(traceId.ToHexString());
                firstKeeps = span.IsSampled;
            }

            using (var span = second.StartSpan("in-second"))
            {
                secondKeeps = span.IsSampled;
            }

            secondKeeps.ShouldBe(firstKeeps, $"trace {traceId}");
            all.Add(traceId.ToHexString());
            if (firstKeeps)
            {
                sampled.Add(traceId.ToHexString());
            }

            // The other process scores the trace by id only.
            second.ScoreTrace(traceId.ToHexString(), "quality", 1).ShouldNotBeNull();
        }

        await FlushAsync(first);
        await FlushAsync(second);

        sampled.Count.ShouldBeInRange(60, 140, "about half of 200 traces");
        server.Spans.Select(s => s.TraceId).Distinct().Order().ShouldBe(sampled.Order());
        server.Spans.Count.ShouldBe(2 * sampled.Count, "each kept trace has its span from both tracers");
        server.IngestionEvents.Select(e => e.TraceId!).Order().ShouldBe(sampled.Order(), "a score on an unsampled trace is not sent");
        first.GetStatistics().Dropped[DropReason.SampledOut].ShouldBe(all.Count - sampled.Count);
        second.GetStatistics().Dropped[DropReason.SampledOut].ShouldBe(2 * (all.Count - sampled.Count));
        AssertAccounting(first);
        AssertAccounting(second);
    }

    // ---- Masking -------------------------------------------------------------------------------------------

    [Fact]
    public async Task Mask_WhenItThrows_ReplacesInputOutputAndMetadata_AndTheSpanIsStillDelivered()
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, o => o.Mask = _ => throw new InvalidOperationException("mask bug"));

        using (var span = tracer.StartTrace("masked", input: "secret input"))
        {
            span.Output = "secret output";
            span.SetMetadata("note", "secret metadata");
        }

        await FlushAsync(tracer);

        var received = server.Spans.Single();
        received.Attr("langfuse.observation.input").ShouldBe(ObservationPreparer.MaskFailedValue);
        received.Attr("langfuse.observation.output").ShouldBe(ObservationPreparer.MaskFailedValue);
        received.Attr("langfuse.observation.metadata").ShouldNotBeNull().ShouldContain(ObservationPreparer.MaskFailedValue);
        server.Requests.Single().BodyText.ShouldNotContain("secret");
        Logs.Entries.ShouldContain(e => e.EventId.Id == 22 && e.Message.Contains(nameof(InvalidOperationException), StringComparison.Ordinal));
        tracer.GetStatistics().Exported.ShouldBe(1);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Mask_RedactsEmails_OffTheCallersThread()
    {
        var server = await StartServerAsync();
        var calls = new List<(int Thread, bool CallerInsideEnd)>();
        var callerInsideEnd = 0;
        var tracer = CreateTracer(server, o => o.Mask = value =>
        {
            lock (calls)
            {
                calls.Add((Environment.CurrentManagedThreadId, Volatile.Read(ref callerInsideEnd) == 1));
            }

            return value is string text ? EmailPattern().Replace(text, "<email>") : value;
        });

        var span = tracer.StartTrace("support", input: "mail alice@example.com please");
        span.Output = "replied to bob.smith@example.org";
        var callerThread = Environment.CurrentManagedThreadId;
        Volatile.Write(ref callerInsideEnd, 1);
        span.End();
        Volatile.Write(ref callerInsideEnd, 0);
        await FlushAsync(tracer);

        var received = server.Spans.Single();
        received.Attr("langfuse.observation.input").ShouldBe("mail <email> please");
        received.Attr("langfuse.observation.output").ShouldBe("replied to <email>");
        lock (calls)
        {
            calls.ShouldNotBeEmpty();
            calls.ShouldNotContain(c => c.Thread == callerThread && c.CallerInsideEnd, "the mask ran inside End() on the caller's thread");
        }

        AssertAccounting(tracer);
    }

    // ---- Shutdown ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("DisposeAsync")]
    [InlineData("Dispose")]
    [InlineData("ShutdownAsync")]
    public async Task Shutdown_DeliversQueuedSpansBeforeReturning(string how)
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, o => o.FlushAt = 100);
        EndSpan(tracer, "queued-1");
        EndSpan(tracer, "queued-2");
        EndSpan(tracer, "queued-3");

        switch (how)
        {
            case "DisposeAsync":
                await tracer.DisposeAsync();
                tracer.IsExporting.ShouldBeFalse();
                break;
            case "Dispose":
                tracer.Dispose();
                break;
            default:
                (await tracer.ShutdownAsync()).Completed.ShouldBeTrue();
                break;
        }

        server.Spans.Select(s => s.Name).Order().ShouldBe(["queued-1", "queued-2", "queued-3"]);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Shutdown_WhenTheServerIsDown_ReturnsFalseOnceTheBudgetIsSpent_AndCountsTheRest()
    {
        var server = await StartServerAsync();
        var time = new FakeTimeProvider(FakeClock.Start);
        var tracer = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.MaxRetries = 5;
            o.RetryBaseDelay = TimeSpan.FromSeconds(1);
            o.MaxRetryDelay = TimeSpan.FromSeconds(1);
            o.ShutdownTimeout = TimeSpan.FromSeconds(5);
        }, time);
        server.FailAll(503);
        EndSpan(tracer, "stuck-1");
        EndSpan(tracer, "stuck-2");
        EndSpan(tracer, "stuck-3");
        await server.WaitForRequestsAsync(1);

        var shutdown = tracer.ShutdownAsync();
        shutdown.IsCompleted.ShouldBeFalse();
        time.Advance(TimeSpan.FromSeconds(5));
        var inTime = await shutdown.WaitAsync(RealTimeGuard);

        inTime.Completed.ShouldBeFalse();
        var stats = tracer.GetStatistics();
        (stats.Dropped[DropReason.Shutdown] + stats.Dropped[DropReason.ExportFailed]).ShouldBe(3);
        stats.Dropped[DropReason.Shutdown].ShouldBeGreaterThanOrEqualTo(2, "two spans never left the queue");
        Logs.Entries.ShouldContain(e => e.EventId.Id == 21);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Shutdown_WhenTheMaskHangs_StillReturnsFalseOnceTheBudgetIsSpent()
    {
        // The mask is user code on the export path: it cannot observe the shutdown token, so the budget must not rely on it.
        var server = await StartServerAsync();
        var time = new FakeTimeProvider(FakeClock.Start);
        using var release = new ManualResetEventSlim();
        using var entered = new SemaphoreSlim(0);
        var tracer = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.ShutdownTimeout = TimeSpan.FromSeconds(5);
            o.Mask = value =>
            {
                entered.Release();
                release.Wait(RealTimeGuard);
                return value;
            };
        }, time);

        try
        {
            EndSpan(tracer, "slow-mask", input: "text");
            (await entered.WaitAsync(RealTimeGuard)).ShouldBeTrue();

            var shutdown = tracer.ShutdownAsync();
            time.Advance(TimeSpan.FromSeconds(5));
            LangfuseFlushResult inTime;
            try
            {
                inTime = await shutdown.WaitAsync(TimeSpan.FromSeconds(3));
            }
            catch (TimeoutException)
            {
                throw new ShouldAssertException("ShutdownAsync waited for a hung mask function beyond its 5 s budget.");
            }

            inTime.Completed.ShouldBeFalse();
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task Export_WhenTheServerIsUnreachable_NothingReachesTheCaller_AndEveryItemIsCounted()
    {
        var tracer = CreateTracer(new Uri("http://127.0.0.1:1/"), o =>
        {
            o.FlushAt = 1;
            o.MaxRetries = 2;
            o.CircuitBreakerFailures = 4;
        });

        await Should.NotThrowAsync(async () =>
        {
            EndSpan(tracer, "nowhere-1");
            EndSpan(tracer, "nowhere-2");
            tracer.ScoreSession("session-1", "quality", 1);
            await FlushAsync(tracer);
        });

        var stats = tracer.GetStatistics();
        stats.Exported.ShouldBe(0);
        stats.Dropped[DropReason.ExportFailed].ShouldBeGreaterThanOrEqualTo(1);
        stats.Dropped[DropReason.CircuitOpen].ShouldBeGreaterThanOrEqualTo(1);
        (stats.Dropped[DropReason.ExportFailed] + stats.Dropped[DropReason.CircuitOpen]).ShouldBe(3);
        AssertAccounting(tracer);
    }

    // ---- What a flush says --------------------------------------------------------------------------------

    [Fact]
    public async Task Flush_WhenLangfuseAccepts_SaysEverythingWasDelivered()
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server);
        EndSpan(tracer, "one");
        EndSpan(tracer, "two");
        tracer.ScoreSession("session-1", "quality", 1);

        var result = await tracer.FlushAsync(RealTimeGuard).WaitAsync(RealTimeGuard);

        result.ShouldBe(new LangfuseFlushResult { Delivered = 3, Completed = true });
        result.AllDelivered.ShouldBeTrue();
    }

    [Fact]
    public async Task Flush_WhenLangfuseIsDown_SaysTheItemsWereKeptOnDisk_NotThatTheyWereDelivered()
    {
        var bufferRoot = Directory.CreateTempSubdirectory("langfuse-flush-result-").FullName;
        try
        {
            var server = await StartServerAsync();
            var tracer = CreateTracer(server, o =>
            {
                o.MaxRetries = 0;
                o.BufferEnabled = true;
                o.BufferDirectory = bufferRoot;
            });
            server.FailAll(503);
            EndSpan(tracer, "kept-1");
            EndSpan(tracer, "kept-2");

            var result = await tracer.FlushAsync(RealTimeGuard).WaitAsync(RealTimeGuard);

            result.ShouldBe(new LangfuseFlushResult { Buffered = 2, Completed = true });
            result.AllDelivered.ShouldBeFalse("nothing reached Langfuse");
            await tracer.ShutdownAsync(TimeSpan.Zero).WaitAsync(RealTimeGuard);
        }
        finally
        {
            Directory.Delete(bufferRoot, recursive: true);
        }
    }

    [Fact]
    public async Task Flush_WhenLangfuseRejectsTheBatch_SaysItWasDropped()
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server);
        server.Enqueue(FakeResponse.Status(400));
        EndSpan(tracer, "refused");

        var result = await tracer.FlushAsync(RealTimeGuard).WaitAsync(RealTimeGuard);

        result.ShouldBe(new LangfuseFlushResult { Dropped = 1, Completed = true });
    }

    // ---- Configuration -------------------------------------------------------------------------------------

    [Fact]
    public async Task Configuration_ProductionEnvironmentAndSampleRate2_LeaveTracingOn_EachReportedOnceWithTheValueUsed()
    {
        var server = await StartServerAsync();
        var options = LangfuseOptions.FromEnvironment(Configuration.EnvironmentStub.Of(
            ("LANGFUSE_PUBLIC_KEY", PublicKey),
            ("LANGFUSE_SECRET_KEY", SecretKey),
            ("LANGFUSE_BASE_URL", server.BaseUrl.ToString()),
            ("LANGFUSE_TRACING_ENVIRONMENT", "Production"),
            ("LANGFUSE_SAMPLE_RATE", "2"),
            ("LANGFUSE_BUFFER_ENABLED", "false")));
        var tracer = new LangfuseTracer(options, Logs, httpClient: null, timeProvider: null);
        Tracers.Add(tracer);

        tracer.IsExporting.ShouldBeTrue("a bad value costs only itself");
        var warning = Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).ShouldHaveSingleItem();
        warning.EventId.Id.ShouldBe(4);
        warning.Message.ShouldContain("LANGFUSE_TRACING_ENVIRONMENT=\"Production\" must be lowercase; using \"production\" instead.");
        warning.Message.ShouldContain("LANGFUSE_SAMPLE_RATE=\"2\" must be a number from 0 to 1; using 1 instead.");
        Regex.Count(warning.Message, "LANGFUSE_SAMPLE_RATE").ShouldBe(1, "reported once");
        Logs.Entries.ShouldContain(e => e.EventId.Id == 3, "the start line says tracing is on");

        EndSpan(tracer, "kept");
        await FlushAsync(tracer);
        var span = server.Spans.ShouldHaveSingleItem("sample rate 1: every trace is kept");
        span.Attr("langfuse.environment").ShouldBe("production");
        AssertAccounting(tracer);
    }

    [Theory]
    [InlineData("base url", "BaseUrl=ftp://files.example/ (set in code) must be an absolute http or https URL")]
    [InlineData("one key", "LANGFUSE_PUBLIC_KEY is set but LANGFUSE_SECRET_KEY is not: set both to send traces, or neither to turn tracing off")]
    public async Task Configuration_WhenTracingCannotWork_SaysSoPlainlyInOneLine_AndTheAppRunsWithoutTracing(string broken, string reason)
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, o =>
        {
            o.SampleRate = 2; // replaced and reported on its own line, as ever
            if (broken == "base url")
            {
                o.BaseUrl = new Uri("ftp://files.example");
            }
            else
            {
                o.SecretKey = null;
            }
        });

        tracer.IsExporting.ShouldBeFalse();
        var lines = Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).ToList();
        lines.Select(e => e.EventId.Id).ShouldBe([4, 2]);
        lines[1].Level.ShouldBe(Microsoft.Extensions.Logging.LogLevel.Error);
        lines[1].Message.ShouldBe($"Langfuse tracing is off because it cannot work: {reason}. The application runs unchanged and nothing will be sent.");

        await Should.NotThrowAsync(async () =>
        {
            using (var root = tracer.StartTrace("still-works", input: "q"))
            {
                using var child = tracer.StartTool("tool");
                root.ScoreTrace("quality", 1).ShouldNotBeNull();
            }

            (await tracer.FlushAsync(TimeSpan.FromSeconds(1))).ShouldBe(new LangfuseFlushResult { Completed = true });
            (await tracer.ShutdownAsync()).Completed.ShouldBeTrue();
        });
        server.Requests.ShouldBeEmpty();
        tracer.GetStatistics().Enqueued.ShouldBe(0);
    }

    [Fact]
    public async Task Configuration_WhenTracingIsDisabled_SaysSoAtInformation_WithoutWarnings()
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, o => o.TracingEnabled = false);

        tracer.IsExporting.ShouldBeFalse();
        Logs.Entries.ShouldNotContain(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
        Logs.Entries.ShouldContain(e => e.EventId.Id == 1 && e.Message.Contains("LANGFUSE_TRACING_ENABLED is false", StringComparison.Ordinal));
    }

    // ---- Helpers -------------------------------------------------------------------------------------------

    private static bool IsRetry(CapturedLogEntry entry) => entry.EventId.Id == 11;

    private static async Task FlushAsync(LangfuseTracer tracer) =>
        (await tracer.FlushAsync(RealTimeGuard).WaitAsync(RealTimeGuard)).Completed.ShouldBeTrue("the flush finished in time");

    [GeneratedRegex(@"[\w.+-]+@[\w-]+\.[\w.]+", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    private LangfuseTracer CreateTracer(FakeLangfuseServer server, Action<LangfuseOptions>? configure = null, TimeProvider? time = null) =>
        CreateTracer(server.BaseUrl, configure, time);

    private LangfuseTracer CreateTracer(Uri baseUrl, Action<LangfuseOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new LangfuseOptions
        {
            PublicKey = PublicKey,
            SecretKey = SecretKey,
            BaseUrl = baseUrl,
            ServiceName = "fault-tolerance-tests",
            FlushAt = 10,
            FlushInterval = TimeSpan.FromMinutes(1), // batches go out on FlushAsync or when full, never by accident
            MaxRetries = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            MaxRetryDelay = TimeSpan.FromMilliseconds(100),
            CircuitBreakerFailures = 50,
            ShutdownTimeout = TimeSpan.FromSeconds(5),
            // An attempt that outlives its timeout is retried and then counted twice by the fake Langfuse; on the real
            // clock a cold first request on a loaded machine can take longer than the default 5 s. Tests about the
            // timeout set their own.
            Timeout = RealTimeGuard,
            BufferEnabled = false, // these scenarios are about the in-memory path; DurableDeliveryTests cover the disk
        };
        configure?.Invoke(options);
        var tracer = new LangfuseTracer(options, Logs, httpClient: null, timeProvider: time, probe: _idle);
        Tracers.Add(tracer);
        return tracer;
    }
}
