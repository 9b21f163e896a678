using Langfuse.Agents.Tests.EndToEnd;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Export;

/// <summary>
/// Issue 8 point 13 / issue 9 finding 2, SDK side: a 207 answer of any realistic size is read per event, and no event
/// counts as exported without a parsed success. (Answers used to be cut at 64 KiB; a longer 207 failed to parse and its
/// events were then all counted as delivered.)
/// </summary>
public sealed class LargeMultiStatusTests : EndToEndTestBase
{
    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    public async Task Export_WhenEveryEventOfABigBatchFailsWith500_NoneIsCountedExported_AndEveryOneIsRetried(int count)
    {
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, count);
        server.FailEvent(_ => true, status: 500);

        for (var i = 0; i < count; i++)
        {
            tracer.ScoreSession("session-1", "quality", i);
        }

        (await tracer.FlushAsync(TimeSpan.FromSeconds(60)).WaitAsync(TimeSpan.FromSeconds(90))).Completed.ShouldBeTrue();

        server.IngestionEvents.ShouldBeEmpty();
        var eventsSent = server.Requests.Where(r => r.Path == FakeLangfuseServer.IngestionPath).Sum(r => CountEvents(r.Body));
        eventsSent.ShouldBe(count * 3, "every event is sent, then retried twice (MaxRetries = 2)");
        var stats = tracer.GetStatistics();
        stats.Exported.ShouldBe(0);
        stats.Dropped[DropReason.ExportFailed].ShouldBe(count);
        AssertAccounting(tracer);
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    public async Task Export_WhenAV4ServerRejectsEveryLegacyEventOfABigBatch_AllAreCountedRejected_NoneExported(int count)
    {
        var server = await StartServerAsync(o => o.Version = FakeLangfuseVersion.V4);
        var tracer = CreateTracer(server, count, o => o.IngestionProtocol = IngestionProtocol.Legacy);

        using (tracer.StartTrace("big-legacy-run"))
        {
            for (var i = 1; i < count; i++)
            {
                using var step = tracer.StartSpan("step");
            }
        }

        (await tracer.FlushAsync(TimeSpan.FromSeconds(60)).WaitAsync(TimeSpan.FromSeconds(90))).Completed.ShouldBeTrue();

        server.IngestionEvents.ShouldBeEmpty();
        var stats = tracer.GetStatistics();
        stats.Exported.ShouldBe(0);
        stats.Dropped[DropReason.Rejected].ShouldBe(count);
        AssertAccounting(tracer);
    }

    [Fact]
    public async Task Export_WhenTheBigAnswerListsOnlySomeEvents_TheUnmentionedOnesAreResent_NotCountedExported()
    {
        // 1,500 events: 1,000 fail with 400 (an answer far over 64 KiB), the rest succeed on the first attempt.
        var server = await StartServerAsync();
        var tracer = CreateTracer(server, 1_500);
        server.FailEvent(e => e.Name == "bad", status: 400, message: "Score value does not match the score config");

        for (var i = 0; i < 1_500; i++)
        {
            tracer.ScoreSession("session-1", i < 1_000 ? "bad" : "good", i);
        }

        (await tracer.FlushAsync(TimeSpan.FromSeconds(60)).WaitAsync(TimeSpan.FromSeconds(90))).Completed.ShouldBeTrue();

        server.IngestionEvents.Count.ShouldBe(500);
        var stats = tracer.GetStatistics();
        stats.Exported.ShouldBe(500);
        stats.Dropped[DropReason.Rejected].ShouldBe(1_000);
        AssertAccounting(tracer);
    }

    private static int CountEvents(byte[] body)
    {
        using var document = System.Text.Json.JsonDocument.Parse(body);
        return document.RootElement.GetProperty("batch").GetArrayLength();
    }

    private LangfuseTracer CreateTracer(FakeLangfuseServer server, int count, Action<LangfuseOptions>? configure = null)
    {
        var options = new LangfuseOptions
        {
            PublicKey = PublicKey,
            SecretKey = SecretKey,
            BaseUrl = server.BaseUrl,
            ServiceName = "large-multi-status-tests",
            FlushAt = count,
            MaxQueueSize = count * 2,
            FlushInterval = TimeSpan.FromMinutes(1), // batches go out on FlushAsync or when full
            MaxRetries = 2,
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            MaxRetryDelay = TimeSpan.FromMilliseconds(100),
            CircuitBreakerFailures = 50,
            Timeout = TimeSpan.FromSeconds(60),
            BufferEnabled = false, // the in-memory path: the forwarder's own tests cover the disk
        };
        configure?.Invoke(options);
        var tracer = new LangfuseTracer(options, Logs, httpClient: null, timeProvider: null);
        Tracers.Add(tracer);
        return tracer;
    }
}
