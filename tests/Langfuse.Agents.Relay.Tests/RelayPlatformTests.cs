using System.Net;
using System.Text;
using System.Text.Json;
using Langfuse.Agents.Testing;
using Shouldly;
using MsFakeTimeProvider = Microsoft.Extensions.Time.Testing.FakeTimeProvider;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>
/// Issue 10: the relay on ASP.NET Core's own parts. Credentials are checked in one endpoint filter (413 before it on the
/// batch endpoint, as Langfuse), bodies are typed results with source-generated JSON, health and readiness are health
/// checks, and the relay's clock comes from DI (Microsoft's FakeTimeProvider steps it here).
/// </summary>
public sealed class RelayPlatformTests
{
    private const string InvalidCredentialsJson = """{"message":"Invalid credentials. Confirm that you\u0027ve configured the correct host."}""";

    [Theory]
    [InlineData("/api/public/otel/v1/traces")]
    [InlineData("/api/public/ingestion")]
    public async Task WithoutCredentials_TheAnswerIsLangfusesExact401(string path)
    {
        await using var host = await RelayTestHost.StartAsync();
        using var client = new HttpClient { BaseAddress = host.Relay.BaseUrl };
        using var content = path.Contains("otel", StringComparison.Ordinal)
            ? Requests.Content(Requests.OtlpProtobuf(1), "application/x-protobuf")
            : Requests.Json(Requests.Batch(Requests.Score("e1")));

        using var response = await client.PostAsync(path, content);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Content.Headers.ContentType!.ToString().ShouldBe("application/json; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).ShouldBe(InvalidCredentialsJson);
        host.Relay.Metrics.RejectionCounts()["unauthorized"].ShouldBe(1);
        host.Relay.Metrics.Requests.ShouldBe(0);
    }

    [Fact]
    public async Task BatchDeclaredOverTheLimit_Gets413_BeforeItsCredentialsAreLookedAt()
    {
        await using var host = await RelayTestHost.StartAsync();
        using var client = new HttpClient { BaseAddress = host.Relay.BaseUrl }; // no credentials at all
        using var content = new ByteArrayContent(new byte[5 * 1024 * 1024]);
        content.Headers.ContentType = new("application/json");

        using var response = await client.PostAsync("/api/public/ingestion", content);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).ShouldBe("Body exceeded 4.5mb limit");
        host.Relay.Metrics.RejectionCounts()["too_large"].ShouldBe(1);
        host.Relay.Metrics.RejectionCounts().GetValueOrDefault("unauthorized").ShouldBe(0);
    }

    [Fact]
    public async Task Health_IsLangfusesShape_ForGetAndHead_WithoutCredentials()
    {
        await using var host = await RelayTestHost.StartAsync();
        using var client = new HttpClient { BaseAddress = host.Relay.BaseUrl };

        using var get = await client.GetAsync("/api/public/health");
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/public/health"));

        get.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await get.Content.ReadAsStringAsync()).ShouldBe($$"""{"status":"OK","version":"langfuse-agents-relay {{LangfuseTracer.SdkVersion}}"}""");
        head.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Ready_AtTheBufferCap_Is503_WhileHealthStaysOk()
    {
        await using var host = await RelayTestHost.StartAsync(configure: o => o with { BufferMaxBytes = 2_000 });
        host.Upstream.FailAll(503, FakePath.Otlp); // nothing is forwarded, so the buffer fills
        (await ReadyAsync(host)).Status.ShouldBe(HttpStatusCode.OK);

        HttpStatusCode answer;
        var i = 0;
        do
        {
            using var response = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(i++), "application/x-protobuf"));
            answer = response.StatusCode;
        }
        while (answer == HttpStatusCode.OK && i < 1000);

        answer.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var ready = await ReadyAsync(host);
        ready.Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        ready.Body.ShouldBe("""{"status":"NOT_READY","reason":"the buffer is at its cap; forwarding frees space"}""");
        using var health = await host.Client.GetAsync("/api/public/health");
        health.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Ready_AfterTheDiskRefusedAWrite_ComesBackWhenTheFakeClockPassesRetryAfter_AndStaysOnceWritesSucceed()
    {
        var clock = new MsFakeTimeProvider(DateTimeOffset.UtcNow);
        var disk = new FullDiskFileSystem();
        await using var host = await RelayTestHost.StartAsync(fileSystem: disk, timeProvider: clock);
        disk.DiskFull = true;

        using (var refused = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(1), "application/x-protobuf")))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        }

        var ready = await ReadyAsync(host);
        ready.Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        ready.Body.ShouldContain("the disk refused the last write");

        clock.Advance(TimeSpan.FromSeconds(9)); // Retry-After is 10 s
        (await ReadyAsync(host)).Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        clock.Advance(TimeSpan.FromSeconds(1));
        (await ReadyAsync(host)).Status.ShouldBe(HttpStatusCode.OK); // tried again rather than out of rotation for ever

        disk.DiskFull = false;
        using (var stored = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(2), "application/x-protobuf")))
        {
            stored.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await ReadyAsync(host)).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GroupCommitLine_WhenFull_Answers503WithRetryAfter_AndWhatWaitedIsStoredOnceTheDiskCatchesUp()
    {
        var disk = new FullDiskFileSystem();
        await using var host = await RelayTestHost.StartAsync(fileSystem: disk, configure: o => o with { MaxPendingRequests = 1 });
        var held = disk.HoldWrites();

        // The first request's group commit is stuck on the disk; the second waits in the line, which is then full.
        var first = host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(1), "application/x-protobuf"));
        await held.WaitAsync(TimeSpan.FromSeconds(30));
        var second = host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(2), "application/x-protobuf"));
        await RelayIngressTests.WaitAsync(() => host.Relay.Writer.Waiting == 1);

        using (var third = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(3), "application/x-protobuf")))
        {
            third.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            third.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(10));
            (await third.Content.ReadAsStringAsync()).ShouldContain("as many requests waiting for the disk as it allows");
        }

        host.Relay.Metrics.RejectionCounts()["busy"].ShouldBe(1);
        disk.ReleaseWrites();
        using (var one = await first)
        using (var two = await second)
        {
            one.StatusCode.ShouldBe(HttpStatusCode.OK);
            two.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await host.Upstream.WaitForSpansAsync(2, TimeSpan.FromSeconds(20));
        host.Upstream.Spans.Select(s => s.SpanId).Order().ShouldBe([Requests.SpanId(1), Requests.SpanId(2)]);
    }

    [Fact]
    public async Task Status_IsSourceGeneratedJson_WithoutNullFields_AndWithoutPathsForAnonymousCallers()
    {
        await using var host = await RelayTestHost.StartAsync();
        using var client = new HttpClient { BaseAddress = host.Relay.BaseUrl };

        using var response = await client.GetAsync("/relay/status");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var text = await response.Content.ReadAsStringAsync();
        text.ShouldNotContain("null");
        using var json = JsonDocument.Parse(text);
        json.RootElement.TryGetProperty("bufferDirectory", out _).ShouldBeFalse();
        json.RootElement.GetProperty("deadLetter").TryGetProperty("path", out _).ShouldBeFalse();
        json.RootElement.GetProperty("upstream").GetProperty("state").GetString().ShouldBe("unknown");
        json.RootElement.GetProperty("accepted").GetProperty("requestsPerCommit").GetDouble().ShouldBe(0);
    }

    [Fact]
    public async Task RecordTimesAndBacklogAge_AreTheContainersClock_SteppedWithoutSleeping()
    {
        var clock = new MsFakeTimeProvider(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));
        await using var host = await RelayTestHost.StartAsync(timeProvider: clock);
        host.Upstream.FailAll(503, FakePath.Otlp); // kept on disk, so its age grows with the clock

        using (var response = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(1), "application/x-protobuf")))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        host.Relay.Queue.Stats.OldestCreatedAt.ShouldBe(clock.GetUtcNow());
        clock.Advance(TimeSpan.FromSeconds(90));

        using var status = await host.Client.GetAsync("/relay/status");
        using var json = JsonDocument.Parse(await status.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("backlog").GetProperty("items").GetInt64().ShouldBe(1);
        json.RootElement.GetProperty("backlog").GetProperty("oldestAgeSeconds").GetDouble().ShouldBe(90);
    }

    private static async Task<(HttpStatusCode Status, string Body)> ReadyAsync(RelayTestHost host)
    {
        using var client = new HttpClient { BaseAddress = host.Relay.BaseUrl };
        using var response = await client.GetAsync("/relay/ready");
        return (response.StatusCode, Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()));
    }
}
