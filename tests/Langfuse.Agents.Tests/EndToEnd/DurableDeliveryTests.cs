using System.Text;
using System.Text.Json;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Timing;
using Langfuse.Agents.Testing;
using Langfuse.Agents.Tests.Durable;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.EndToEnd;

/// <summary>
/// Durable delivery against a real HTTP fake of Langfuse: what cannot be delivered (retries exhausted, circuit open,
/// shutdown during an outage, 401/403, write-ahead) waits on disk and the forwarder delivers it, oldest first, with
/// the same bytes. Outages last minutes or hours of a fake clock; the disk fills up and comes back. After every
/// scenario the counters add up (<see cref="LangfuseStatistics"/>'s identity), and no log line contains a key.
/// </summary>
/// <remarks>
/// Fake-clock scenarios step a <see cref="SteppingClock"/> and, after each step, wait (real time, for progress only)
/// until every background actor says it is parked (the SDK's <see cref="IdleProbe"/>: waiting on the clock or for a
/// wake, never with a request in flight); so request counts per advanced interval are properties of the SDK, not of
/// the machine's speed.
/// </remarks>
public sealed class DurableDeliveryTests : EndToEndTestBase
{
    /// <summary>Polly's attempt timeout in fake-clock tests: longer than any step, though no attempt is in flight while the clock moves.</summary>
    private static readonly TimeSpan FakeAttemptTimeout = TimeSpan.FromSeconds(599);
    /// <summary>FlushAsync's timeout (on the tracer's clock).</summary>
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromMilliseconds(9_876);

    private readonly string _bufferRoot = Directory.CreateTempSubdirectory("langfuse-durable-e2e-").FullName;

    protected override void CleanUp()
    {
        try
        {
            Directory.Delete(_bufferRoot, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory.
        }
    }

    // ---- What goes to disk ---------------------------------------------------------------------------------

    [Fact]
    public async Task RetriesExhausted_KeepsTheBatchOnDisk_AndTheForwarderDeliversItWhenLangfuseAnswersAgain()
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, o => o.MaxRetries = 2);
        server.FailAll(503);

        EndSpan(tracer, "kept-1");
        EndSpan(tracer, "kept-2");
        EndSpan(tracer, "kept-3");
        await FlushAsync(tracer);

        var stats = tracer.GetStatistics();
        stats.Spilled.ShouldBe(3, stats.ToString());
        stats.Buffered.ShouldBe(3, stats.ToString());
        stats.Exported.ShouldBe(0);
        stats.DroppedTotal.ShouldBe(0, "nothing is dropped while there is a disk");
        SegmentFiles().ShouldNotBeEmpty();
        Logs.Entries.Count(e => e.EventId.Id == 31).ShouldBe(1, "one line for the outage, not one per batch");
        AssertAccounting(tracer);

        server.Heal();
        await WaitForReplayedAsync(3);

        server.Spans.Select(s => s.Name).ShouldBe(["kept-1", "kept-2", "kept-3"]);
        tracer.GetStatistics().Buffered.ShouldBe(0);
        SegmentFiles().ShouldBeEmpty("a delivered segment is deleted");
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task CircuitOpen_KeepsLaterBatchesOnDiskWithoutSendingThem_AndDeliversEverythingInOrderAfterTheBreak()
    {
        var server = await StartServerAsync();
        var clock = new SteppingClock();
        var tracer = CreateTracer(server, o =>
        {
            o.MaxRetries = 0;
            o.CircuitBreakerFailures = 2;
            o.CircuitBreakDuration = TimeSpan.FromSeconds(30);
            o.MaxRetryDelay = TimeSpan.FromSeconds(1);
        }, clock);
        server.FailAll(503);

        for (var i = 1; i <= 5; i++)
        {
            EndSpan(tracer, $"batch-{i}");
            await FlushAsync(tracer);
            await clock.WaitParkedAsync();
        }

        // Two failures open the circuit (a third attempt may race the second: the exporter and the forwarder share it);
        // after that nothing is sent while it is open, though five batches were written and the forwarder woken five times.
        server.Requests.Count.ShouldBeInRange(2, 3, server.Describe());
        Logs.Entries.ShouldContain(e => e.EventId.Id == 12);
        var stats = tracer.GetStatistics();
        stats.Spilled.ShouldBe(5, stats.ToString());
        stats.Buffered.ShouldBe(5, stats.ToString());
        stats.Dropped[DropReason.CircuitOpen].ShouldBe(0);
        AssertAccounting(tracer);

        server.Heal();
        await clock.StepUntilAsync(TimeSpan.FromSeconds(5), maxSteps: 12, () => tracer.GetStatistics().Buffered == 0, "the backlog to drain");

        server.Spans.Select(s => s.Name).ShouldBe(["batch-1", "batch-2", "batch-3", "batch-4", "batch-5"], "oldest first");
        Logs.Entries.ShouldContain(e => e.EventId.Id == 13);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Shutdown_WhileLangfuseIsUnreachable_PersistsWhatIsQueuedInsteadOfDroppingIt_AndTheNextRunDeliversIt()
    {
        var server = await StartServerAsync();
        var first = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.Timeout = TimeSpan.FromSeconds(30);
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(500);
        });
        server.Enqueue(FakeResponse.Delay(TimeSpan.FromSeconds(30))); // the first batch hangs until shutdown gives up
        server.FailAll(503); // and everything after it fails

        EndSpan(first, "at-exit-1");
        EndSpan(first, "at-exit-2");
        EndSpan(first, "at-exit-3");
        EndSpan(first, "at-exit-4");
        var inTime = await first.ShutdownAsync().WaitAsync(RealTimeGuard);

        inTime.Completed.ShouldBeFalse("Langfuse never answered");
        var stats = first.GetStatistics();
        stats.Dropped[DropReason.Shutdown].ShouldBe(0, stats.ToString());
        stats.Spilled.ShouldBe(4, stats.ToString());
        stats.Buffered.ShouldBe(4, stats.ToString());
        Logs.Entries.ShouldContain(e => e.EventId.Id == 21);
        AssertAccounting(first);
        await first.DisposeAsync();
        SegmentFiles().ShouldNotBeEmpty();

        server.Heal();
        var second = CreateTracer(server);
        second.GetStatistics().Recovered.ShouldBe(4);
        await second.DisposeAsync();

        server.Spans.Select(s => s.Name).Order().ShouldBe(["at-exit-1", "at-exit-2", "at-exit-3", "at-exit-4"]);
        SegmentFiles().ShouldBeEmpty();
        AssertAccounting(second);
    }

    [Fact]
    public async Task WriteAhead_WritesEveryBatchToDiskBeforeTheServerSeesIt_AndTheForwarderDeliversIt()
    {
        var server = await StartServerAsync();
        var files = new RecordingFileSystem();
        var tracer = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.BufferWriteAhead = true;
        }, fileSystem: files);
        server.FailAll(503);

        EndSpan(tracer, "ahead-1");
        await FlushAsync(tracer);
        EndSpan(tracer, "ahead-2");
        await FlushAsync(tracer);

        var stats = tracer.GetStatistics();
        stats.Spilled.ShouldBe(2, stats.ToString());
        stats.Buffered.ShouldBe(2, stats.ToString());
        stats.DroppedTotal.ShouldBe(0, stats.ToString());
        SegmentFiles().Count.ShouldBe(2, "one segment per batch, written by the flush itself");
        AssertAccounting(tracer);

        server.Heal();
        await WaitForReplayedAsync(2);

        server.Spans.Select(s => s.Name).ShouldBe(["ahead-1", "ahead-2"]);
        var firstSegment = files.Segments.Min();
        server.Requests.ShouldAllBe(r => r.ReceivedAt >= firstSegment, "no request before its batch is on disk");
        // The forwarder merges the two records into one request (or sends them one by one): either way each batch
        // reaches the server only after it was written.
        var delivered = server.Requests.Where(r => r.StatusCode == 200).Select(r => r.ReceivedAt).ToList();
        delivered.Count.ShouldBeInRange(1, 2);
        delivered.Min().ShouldBeGreaterThanOrEqualTo(files.Segments.Min(), "batch 1 reached the server after it was written");
        delivered.Max().ShouldBeGreaterThanOrEqualTo(files.Segments.Max(), "batch 2 reached the server after it was written");

        SegmentFiles().ShouldBeEmpty();
        AssertAccounting(tracer);
    }

    // ---- 401 / 403 -----------------------------------------------------------------------------------------

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task Unauthorized_KeepsTheDataOnDisk_PausesSendingWithOneLogLinePerPause_AndDeliversOnceFixed(int status)
    {
        var server = await StartServerAsync();
        var clock = new SteppingClock();
        var tracer = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.MaxRetries = 3;
            o.RetryBaseDelay = TimeSpan.FromSeconds(1);
            o.MaxRetryDelay = TimeSpan.FromSeconds(30);
        }, clock);
        server.FailAll(status);

        for (var i = 1; i <= 3; i++)
        {
            EndSpan(tracer, $"refused-{i}");
            await FlushAsync(tracer);
            await clock.WaitParkedAsync();
        }

        server.Requests.Count.ShouldBe(1, "while paused, later batches go to disk without a request");
        var paused = Logs.Entries.Where(e => e.EventId.Id == 30).ToList();
        paused.Count.ShouldBe(1, "one clear line, not one per batch");
        paused[0].Level.ShouldBe(Microsoft.Extensions.Logging.LogLevel.Error);
        paused[0].Message.ShouldContain($"HTTP {status}");
        var stats = tracer.GetStatistics();
        stats.Dropped[DropReason.Rejected].ShouldBe(0, "a 401/403 is not a bad request: " + stats);
        stats.Spilled.ShouldBe(3, stats.ToString());
        stats.Buffered.ShouldBe(3, stats.ToString());
        AssertAccounting(tracer);

        // Twenty minutes of a still-broken key: a probe after each pause (1, 2, 4, 8 min), no retry storm.
        for (var i = 0; i < 120; i++)
        {
            await clock.StepAsync(TimeSpan.FromSeconds(10));
        }

        server.Requests.Count.ShouldBeInRange(3, 5, server.Describe());
        Logs.Entries.Count(e => e.EventId.Id == 30).ShouldBe(server.Requests.Count, "one line per pause");
        tracer.GetStatistics().Buffered.ShouldBe(3);
        AssertAccounting(tracer);

        server.Heal();
        await clock.StepUntilAsync(TimeSpan.FromSeconds(10), maxSteps: 100, () => tracer.GetStatistics().Buffered == 0, "the backlog to drain after the key is fixed");

        server.Spans.Select(s => s.Name).ShouldBe(["refused-1", "refused-2", "refused-3"]);
        tracer.GetStatistics().Dropped[DropReason.Rejected].ShouldBe(0);
        AssertAccounting(tracer);
    }

    // ---- Backlogs from an earlier run ----------------------------------------------------------------------

    [Fact]
    public async Task Backlog_FromAnEarlierRun_IsDeliveredAlongsideNewData_BeforeAShortRunExits()
    {
        var server = await StartServerAsync();
        var firstCapture = new LangfuseCapture();
        var first = CreateTracer(server, o =>
        {
            o.MaxRetries = 0;
            o.Capture = firstCapture;
        });
        server.FailAll(503);
        EndSpan(first, "old-1");
        await FlushAsync(first);
        EndSpan(first, "old-2");
        await FlushAsync(first);
        await first.DisposeAsync();
        first.GetStatistics().Buffered.ShouldBe(2);
        AssertAccounting(first);

        server.Heal();
        var second = CreateTracer(server);
        second.GetStatistics().Recovered.ShouldBe(2);
        EndSpan(second, "new-1");
        EndSpan(second, "new-2");
        await second.DisposeAsync(); // a short run: no flush, no wait; the shutdown budget covers both

        server.Spans.Select(s => s.Name).Order().ShouldBe(["new-1", "new-2", "old-1", "old-2"]);
        var old = server.Spans.Where(s => s.Name.StartsWith("old-", StringComparison.Ordinal)).ToList();
        old.Select(s => s.SpanId).ShouldBe(firstCapture.Observations.Select(o => o.Id), "the old spans keep their ids, oldest first");
        var stats = second.GetStatistics();
        stats.Exported.ShouldBe(4, stats.ToString());
        stats.Buffered.ShouldBe(0);
        SegmentFiles().ShouldBeEmpty();
        AssertAccounting(second);
    }

    [Fact]
    public async Task Backlog_AfterAnOutage_DrainsAtLeastTenTimesFasterThanNewDataArrives()
    {
        const int Backlog = 40;
        var server = await StartServerAsync();
        var clock = new SteppingClock();
        var tracer = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.MaxRetries = 0;
            o.MaxRetryDelay = TimeSpan.FromSeconds(1);
        }, clock);
        server.FailAll(503);
        for (var i = 0; i < Backlog; i++)
        {
            EndSpan(tracer, $"backlog-{i:D2}");
            await FlushAsync(tracer);
            await clock.WaitParkedAsync();
        }

        tracer.GetStatistics().Buffered.ShouldBe(Backlog);
        AssertAccounting(tracer);

        // Recovery: one new batch per one-second tick (live traffic); the backlog must be gone within Backlog / 10 ticks.
        server.Heal();
        var ticks = 0;
        while (tracer.GetStatistics().Buffered > 0 && ticks < Backlog / 10)
        {
            ticks++;
            EndSpan(tracer, $"live-{ticks:D2}");
            await FlushAsync(tracer);
            await clock.StepAsync(TimeSpan.FromSeconds(1));
        }

        tracer.GetStatistics().Buffered.ShouldBe(0, $"after {ticks} ticks: {tracer.GetStatistics()}");
        var names = server.Spans.Select(s => s.Name).ToList();
        names.Where(n => n.StartsWith("backlog-", StringComparison.Ordinal)).ShouldBe(
            Enumerable.Range(0, Backlog).Select(i => $"backlog-{i:D2}"), "replayed oldest first");
        var live = names.Count(n => n.StartsWith("live-", StringComparison.Ordinal));
        live.ShouldBeLessThanOrEqualTo(Backlog / 10, $"{Backlog} replayed segments vs {live} live batches in the same window");
        AssertAccounting(tracer);
    }

    // ---- Resending is safe ---------------------------------------------------------------------------------

    [Fact]
    public async Task Replay_SendsTheSameBytes_SoSpansKeepTheirSpanIdsTraceIdsAndTimes()
    {
        var server = await StartServerAsync();
        var capture = new LangfuseCapture();
        var tracer = CreateTracer(server, o =>
        {
            o.MaxRetries = 0;
            o.Capture = capture;
        });
        server.FailAll(503);

        using (var root = tracer.StartTrace("agent-run", input: "question"))
        {
            using (tracer.StartTool("search", input: "query"))
            {
            }

            using var generation = tracer.StartGeneration("answer", model: "gpt-x");
            generation.Output = "answer";
        }

        await FlushAsync(tracer);
        var refused = server.Requests.First(r => r.Path == FakeLangfuseServer.OtlpPath).Body;
        server.Heal();
        await WaitForReplayedAsync(3);

        var replay = server.Requests.Single(r => r.StatusCode == 200);
        replay.Body.ShouldBe(refused, "the exact request body is resent");
        var produced = capture.Observations.ToDictionary(o => o.Id);
        server.Spans.Count.ShouldBe(3);
        foreach (var span in server.Spans)
        {
            var original = produced[span.SpanId];
            span.TraceId.ShouldBe(original.TraceId);
            span.ParentSpanId.ShouldBe(original.ParentId);
            span.StartTime.ShouldBe(original.StartTime);
            span.EndTime.ShouldBe(original.EndTime!.Value);
        }

        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Replay_OfScores_KeepsTheirEnvelopeIdsBodyIdsAndTimestamps_EvenWhenOneEventIsRetriedAlone()
    {
        var server = await StartServerAsync();
        var clock = new SteppingClock();
        var tracer = CreateTracer(server, o =>
        {
            o.MaxRetries = 0;
            o.MaxRetryDelay = TimeSpan.FromSeconds(1);
        }, clock);
        server.FailAll(503);
        const string TraceId = "0123456789abcdef0123456789abcdef";
        var good = tracer.ScoreTrace(TraceId, "good", 1).ShouldNotBeNull();
        var flaky = tracer.ScoreTrace(TraceId, "flaky", 0.5).ShouldNotBeNull();
        await FlushAsync(tracer);
        await clock.WaitParkedAsync();
        tracer.GetStatistics().Buffered.ShouldBe(2);

        using var refused = JsonDocument.Parse(server.Requests.First(r => r.Path == FakeLangfuseServer.IngestionPath).Body);
        var envelopes = refused.RootElement.GetProperty("batch").EnumerateArray()
            .ToDictionary(e => e.GetProperty("body").GetProperty("id").GetString()!, e => (Id: e.GetProperty("id").GetString()!, Timestamp: e.GetProperty("timestamp").GetString()!));
        envelopes.Keys.Order().ShouldBe(new[] { good.Id, flaky.Id }.Order());

        server.Heal();
        server.FailEvent(e => e.Name == "flaky", status: 500, times: 1); // the replay's 207 fails one event once
        // What is under test is what arrives, not how many steps it takes: under load a step can come while the
        // forwarder is between two waits, so allow plenty of them.
        await clock.StepUntilAsync(TimeSpan.FromSeconds(1), maxSteps: 60, () => tracer.GetStatistics().Buffered == 0, "both scores to be delivered");

        server.IngestionEvents.Count.ShouldBe(2);
        foreach (var received in server.IngestionEvents)
        {
            received.Type.ShouldBe("score-create");
            var original = envelopes[received.BodyId!];
            received.Id.ShouldBe(original.Id, "the envelope id is kept, so Langfuse deduplicates a resend");
            received.Timestamp.ShouldBe(original.Timestamp);
        }

        server.IngestionEvents.Select(e => e.Name).ShouldBe(["good", "flaky"], "the failed event was resent alone, after the first");
        var stats = tracer.GetStatistics();
        stats.Exported.ShouldBe(2, stats.ToString());
        AssertAccounting(tracer);
    }

    // ---- Retry-After storms --------------------------------------------------------------------------------

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("30")]
    [InlineData("3600")]
    [InlineData("Thu, 01 Jan 2026 01:00:00 GMT")] // an hour after the fake clock's start
    [InlineData("garbage")]
    public async Task RetryAfterStorm_WhileReplayingFromDisk_NeverHotLoops_NorWaitsBeyondMaxRetryDelay(string retryAfter)
    {
        var server = await StartServerAsync();
        await WriteBacklogAsync(server, "waiting");

        // The next run replays it into a storm of 429s; only its forwarder is busy.
        server.FailAll(429, retryAfter: retryAfter);
        var clock = new SteppingClock();
        var tracer = CreateTracer(server, o =>
        {
            o.MaxRetries = 2;
            o.RetryBaseDelay = TimeSpan.FromSeconds(1);
            o.MaxRetryDelay = TimeSpan.FromSeconds(10);
        }, clock);
        await clock.WaitParkedAsync();

        // Five minutes in one-second steps: the forwarder waits on the clock every time (parked after each step),
        // at least 100 ms per attempt and never more than 10 s between attempts.
        var perMinute = new List<int>();
        for (var minute = 0; minute < 5; minute++)
        {
            var before = server.Requests.Count;
            for (var second = 0; second < 60; second++)
            {
                await clock.StepAsync(TimeSpan.FromSeconds(1));
            }

            perMinute.Add(server.Requests.Count - before);
        }

        perMinute.ShouldAllBe(n => n >= 3 && n <= 61, $"requests per fake minute: {string.Join(", ", perMinute)}");
        var stats = tracer.GetStatistics();
        stats.Buffered.ShouldBe(1, stats.ToString());
        stats.DroppedTotal.ShouldBe(0, stats.ToString());
        AssertAccounting(tracer);

        server.Heal();
        await clock.StepUntilAsync(TimeSpan.FromSeconds(1), maxSteps: 15, () => tracer.GetStatistics().Buffered == 0, "the backlog to drain");
        server.Spans.Select(s => s.Name).ShouldBe(["waiting"]);
        AssertAccounting(tracer);
    }

    // ---- Long outages --------------------------------------------------------------------------------------

    public static TheoryData<string, int, int> Outages => new()
    {
        // failure, outage length in minutes, minutes between batches
        { "503", 5, 1 },
        { "500", 5, 1 },
        { "429", 5, 1 },
        { "drop", 5, 1 },
        { "503", 180, 15 },
        { "drop", 180, 15 },
    };

    [Theory]
    [MemberData(nameof(Outages))]
    public async Task Outage_OfMinutesOrHours_KeepsEveryItemOnDisk_WithoutARequestStorm_AndDeliversItInOrderOnRecovery(string failure, int minutes, int every)
    {
        var server = await StartServerAsync();
        var clock = new SteppingClock();
        var breakDuration = TimeSpan.FromSeconds(30);
        var maxRetryDelay = TimeSpan.FromSeconds(60);
        var tracer = CreateTracer(server, o =>
        {
            o.FlushAt = 1;
            o.MaxRetries = 0;
            o.CircuitBreakerFailures = 3;
            o.CircuitBreakDuration = breakDuration;
            o.RetryBaseDelay = TimeSpan.FromSeconds(1);
            o.MaxRetryDelay = maxRetryDelay;
        }, clock);
        GoDown(server, failure);

        var step = TimeSpan.FromSeconds(15);
        var steps = (int)(TimeSpan.FromMinutes(minutes) / step);
        var stepsPerBatch = (int)(TimeSpan.FromMinutes(every) / step);
        var produced = new List<string>();
        for (var i = 0; i < steps; i++)
        {
            if (i % stepsPerBatch == 0)
            {
                produced.Add($"batch-{produced.Count:D3}");
                EndSpan(tracer, produced[^1]);
                await FlushAsync(tracer);
            }

            await clock.StepAsync(step);
        }

        var stats = tracer.GetStatistics();
        stats.Exported.ShouldBe(0);
        stats.DroppedTotal.ShouldBe(0, stats.ToString());
        stats.Buffered.ShouldBe(produced.Count, stats.ToString());
        AssertAccounting(tracer);

        // The breaker lets one probe through per break, the forwarder waits at most MaxRetryDelay: bounded both ways.
        var outage = TimeSpan.FromMinutes(minutes);
        var requests = server.Requests.Count;
        requests.ShouldBeLessThanOrEqualTo((int)(outage / breakDuration) + (2 * produced.Count) + 5, server.Describe());
        requests.ShouldBeGreaterThanOrEqualTo((int)(outage / (maxRetryDelay + breakDuration + step + step)) / 2, server.Describe());

        server.Heal();
        await clock.StepUntilAsync(step, maxSteps: 20, () => tracer.GetStatistics().Buffered == 0, "the backlog to drain after recovery");

        server.Spans.Select(s => s.Name).ShouldBe(produced, "every item, oldest first");
        SegmentFiles().ShouldBeEmpty();
        AssertAccounting(tracer);
    }

    // ---- The disk fails ------------------------------------------------------------------------------------

    [Theory]
    [InlineData("full")]
    [InlineData("unwritable")]
    [InlineData("rename fails")]
    public async Task Disk_WhenFullOrUnwritable_TheAppSeesNoException_TheSdkCountsDiskErrors_AndRecoversWhenSpaceReturns(string fault)
    {
        var server = await StartServerAsync();
        var disk = new FaultyFileSystem();
        var tracer = CreateTracer(server, o => o.MaxRetries = 0, fileSystem: disk);
        server.FailAll(503);
        SetFault(disk, fault, on: true);

        await Should.NotThrowAsync(async () =>
        {
            EndSpan(tracer, "lost-1");
            await tracer.FlushAsync(TimeSpan.FromSeconds(10));
            EndSpan(tracer, "lost-2");
            tracer.ScoreSession("session-1", "quality", 1);
            await tracer.FlushAsync(TimeSpan.FromSeconds(10));
        });

        var stats = tracer.GetStatistics();
        stats.Dropped[DropReason.DiskError].ShouldBe(3, stats.ToString());
        stats.Buffered.ShouldBe(0);
        Logs.Entries.Count(e => e.EventId.Id == 62).ShouldBe(1, "one warning until a write succeeds");
        SegmentFiles().ShouldBeEmpty();
        AssertAccounting(tracer);

        SetFault(disk, fault, on: false);
        EndSpan(tracer, "kept-1");
        await FlushAsync(tracer);
        EndSpan(tracer, "kept-2");
        await FlushAsync(tracer);
        stats = tracer.GetStatistics();
        stats.Buffered.ShouldBe(2, stats.ToString());
        stats.Dropped[DropReason.DiskError].ShouldBe(3);
        Logs.Entries.ShouldContain(e => e.EventId.Id == 63);
        AssertAccounting(tracer);

        server.Heal();
        await WaitForReplayedAsync(2);
        server.Spans.Select(s => s.Name).ShouldBe(["kept-1", "kept-2"]);
        AssertAccounting(tracer);
    }

    // ---- Helpers -------------------------------------------------------------------------------------------

    private static void GoDown(FakeLangfuseServer server, string failure)
    {
        switch (failure)
        {
            case "drop":
                for (var i = 0; i < 2_000; i++)
                {
                    server.Enqueue(FakeResponse.DropConnection()); // Heal() forgets the rest
                }

                break;
            case "429":
                server.FailAll(429, retryAfter: "1");
                break;
            default:
                server.FailAll(int.Parse(failure, System.Globalization.CultureInfo.InvariantCulture));
                break;
        }
    }

    private static void SetFault(FaultyFileSystem disk, string fault, bool on)
    {
        switch (fault)
        {
            case "full": disk.DiskFull = on; break;
            case "unwritable": disk.FailCreates = on; break;
            default: disk.FailRenames = on; break;
        }
    }

    /// <summary>An earlier run that could not deliver <paramref name="name"/> and left it on disk.</summary>
    private async Task WriteBacklogAsync(FakeLangfuseServer server, string name)
    {
        server.FailAll(503);
        var earlier = CreateTracer(server, o => o.MaxRetries = 0);
        EndSpan(earlier, name);
        await FlushAsync(earlier);
        await earlier.DisposeAsync();
        earlier.GetStatistics().Buffered.ShouldBe(1);
        server.Clear();
    }

    private static async Task FlushAsync(LangfuseTracer tracer) =>
        (await tracer.FlushAsync(FlushTimeout).WaitAsync(RealTimeGuard)).Completed.ShouldBeTrue("the flush finished in time");

    /// <summary>Waits until the forwarder has logged delivering <paramref name="items"/> buffered items in all.</summary>
    private async Task WaitForReplayedAsync(int items)
    {
        while (true)
        {
            var entries = Logs.Entries;
            var replayed = entries.Where(e => e.EventId.Id == 32).Sum(e => Convert.ToInt64(e.Value("Count"), System.Globalization.CultureInfo.InvariantCulture));
            if (replayed >= items)
            {
                return;
            }

            await Logs.WaitForCountAsync(_ => true, entries.Count + 1, RealTimeGuard, $"(waiting for {items} replayed items, {replayed} so far)");
        }
    }

    private List<string> SegmentFiles() =>
        [.. Directory.EnumerateFiles(_bufferRoot, "*" + DurableQueue.SegmentExtension, SearchOption.AllDirectories)];

    private LangfuseTracer CreateTracer(
        FakeLangfuseServer server,
        Action<LangfuseOptions>? configure = null,
        SteppingClock? clock = null,
        IDurableFileSystem? fileSystem = null)
    {
        var options = new LangfuseOptions
        {
            PublicKey = PublicKey,
            SecretKey = SecretKey,
            BaseUrl = server.BaseUrl,
            ServiceName = "durable-delivery-tests",
            FlushAt = 10,
            FlushInterval = TimeSpan.FromMinutes(1), // batches go out on FlushAsync or when full, never by accident
            MaxRetries = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            MaxRetryDelay = TimeSpan.FromMilliseconds(100),
            CircuitBreakerFailures = 10_000,
            ShutdownTimeout = TimeSpan.FromSeconds(5),
            Timeout = RealTimeGuard, // a cold first request on a loaded machine can outlive the default 5 s and be sent twice
            BufferEnabled = true,
            BufferDirectory = _bufferRoot,
        };
        if (clock is not null)
        {
            options.Timeout = FakeAttemptTimeout;
            options.FlushInterval = TimeSpan.FromHours(2);
        }

        configure?.Invoke(options);
        var tracer = new LangfuseTracer(options, Logs, httpClient: null, timeProvider: clock, api: null, durableFileSystem: fileSystem, probe: clock?.Idle);
        Tracers.Add(tracer);
        return tracer;
    }

    /// <summary>The real file system, noting when each segment is renamed into place (real time).</summary>
    private sealed class RecordingFileSystem : IDurableFileSystem
    {
        private readonly DurableFileSystem _inner = DurableFileSystem.Instance;
        private readonly Lock _lock = new();
        private readonly List<DateTimeOffset> _segments = [];

        public IReadOnlyList<DateTimeOffset> Segments
        {
            get
            {
                lock (_lock)
                {
                    return [.. _segments];
                }
            }
        }

        public void CreateDirectory(string path) => _inner.CreateDirectory(path);

        public UnixFileMode? GetUnixFileMode(string path) => _inner.GetUnixFileMode(path);

        public void SetUnixFileMode(string path, UnixFileMode mode) => _inner.SetUnixFileMode(path, mode);

        public IReadOnlyList<string> GetFiles(string directory) => _inner.GetFiles(directory);

        public long GetLength(string path) => _inner.GetLength(path);

        public DateTimeOffset GetLastWriteTime(string path) => _inner.GetLastWriteTime(path);

        public int ReadPrefix(string path, Span<byte> buffer) => _inner.ReadPrefix(path, buffer);

        public byte[] ReadAll(string path) => _inner.ReadAll(path);

        public Stream CreateNew(string path) => _inner.CreateNew(path);

        public void FlushToDisk(Stream stream) => _inner.FlushToDisk(stream);

        public void Move(string source, string destination)
        {
            _inner.Move(source, destination);
            if (destination.EndsWith(DurableQueue.SegmentExtension, StringComparison.Ordinal))
            {
                lock (_lock)
                {
                    _segments.Add(DateTimeOffset.UtcNow);
                }
            }
        }

        public void Delete(string path) => _inner.Delete(path);

        public void FlushDirectory(string directory) => _inner.FlushDirectory(directory);

        public IDisposable? TryLockExclusive(string path) => _inner.TryLockExclusive(path);
    }
}

/// <summary>
/// A <see cref="FakeTimeProvider"/> stepped by the test, with the <see cref="IdleProbe"/> the tracer's background actors
/// report to. After a step, every actor the step woke was marked running before <c>Advance</c> returned (the waker
/// reports it), so waiting for "none running" waits exactly until the step's work is done; no timer is inspected.
/// </summary>
internal sealed class SteppingClock : TimeProvider
{
    // A guard, not a wait: generous because the whole suite runs test assemblies side by side on two cores.
    private static readonly TimeSpan ParkGuard = LoadedMachine.HangGuard;

    private readonly FakeTimeProvider _inner = new(FakeClock.Start);

    /// <summary>What the tracer's actors report to (pass it to the tracer).</summary>
    public IdleProbe Idle { get; } = new();

    public override TimeZoneInfo LocalTimeZone => _inner.LocalTimeZone;

    public override long TimestampFrequency => _inner.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => _inner.GetUtcNow();

    public override long GetTimestamp() => _inner.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _inner.CreateTimer(callback, state, dueTime, period);

    /// <summary>Advances the clock by <paramref name="step"/>, then waits until every actor is parked again.</summary>
    public async Task StepAsync(TimeSpan step)
    {
        _inner.Advance(step);
        await WaitParkedAsync();
    }

    /// <summary>Steps until <paramref name="done"/> holds (checked while parked), at most <paramref name="maxSteps"/> times.</summary>
    public async Task StepUntilAsync(TimeSpan step, int maxSteps, Func<bool> done, string description)
    {
        await WaitParkedAsync();
        for (var i = 0; i < maxSteps && !done(); i++)
        {
            await StepAsync(step);
        }

        done().ShouldBeTrue($"{description} within {maxSteps} steps of {step} (clock at {GetUtcNow():O})");
    }

    /// <summary>Waits (real time, for progress only) until every background actor is parked: nothing in flight, nothing to do until the clock moves.</summary>
    public Task WaitParkedAsync() => Idle.WaitIdleAsync(ParkGuard);
}
