using System.Net;
using System.Text.Json;
using Langfuse.Agents.Relay.Internal;
using Langfuse.Agents.Testing;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>What happens to acknowledged data: upstream outages, rejections, a full disk, restarts.</summary>
public sealed class RelayDeliveryTests
{
    [Fact]
    public async Task UpstreamDown_ThenBack_DeliversEverythingAcknowledged_InOrder()
    {
        await using var host = await RelayTestHost.StartAsync();
        host.Upstream.FailAll(503, FakePath.Otlp | FakePath.Ingestion);

        for (var i = 0; i < 8; i++)
        {
            using var response = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(i * 10, count: 2), "application/x-protobuf"));
            response.StatusCode.ShouldBe(HttpStatusCode.OK); // on disk: the outage is the relay's problem now
        }

        await RelayIngressTests.WaitAsync(() => host.Upstream.Requests.Count >= 2); // it tried, and failed
        host.Upstream.Spans.ShouldBeEmpty();
        host.Relay.Queue.Stats.Items.ShouldBe(16);
        using (var status = JsonDocument.Parse(await host.Client.GetStringAsync("/relay/status")))
        {
            status.RootElement.GetProperty("backlog").GetProperty("items").GetInt64().ShouldBe(16);
            status.RootElement.GetProperty("upstream").GetProperty("state").GetString().ShouldBe("failing");
        }

        host.Upstream.Heal();

        await host.Upstream.WaitForSpansAsync(16, TimeSpan.FromSeconds(20));
        host.Upstream.Spans.Select(s => s.SpanId).ShouldBe(Enumerable.Range(0, 8).SelectMany(i => new[] { Requests.SpanId(i * 10), Requests.SpanId((i * 10) + 1) }));
        await RelayIngressTests.WaitAsync(() => host.Relay.Queue.Stats.Items == 0);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(401)]
    public async Task UpstreamRefusing_KeepsDataOnDisk(int status)
    {
        await using var host = await RelayTestHost.StartAsync();
        host.Upstream.FailAll(status, FakePath.Otlp, retryAfter: status == 429 ? "1" : null);

        using var response = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(1), "application/x-protobuf"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        await RelayIngressTests.WaitAsync(() => host.Upstream.Requests.Count >= 1);
        await Task.Delay(300);
        host.Relay.Queue.Stats.Items.ShouldBe(1);
        File.Exists(host.Relay.DeadLetterPath).ShouldBeFalse();
    }

    [Fact]
    public async Task UpstreamPerEventRejections_AreCounted_AndKeptInTheDeadLetterFile()
    {
        // A v4 Langfuse takes only scores on the batch endpoint: the trace-create is valid, so the relay accepts it,
        // and Langfuse rejects it for good.
        await using var host = await RelayTestHost.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V4 });

        using var response = await host.Client.PostAsync("/api/public/ingestion", Requests.Json(Requests.Batch(Requests.Score("score-1"), Requests.TraceCreate("trace-1"))));

        ((int)response.StatusCode).ShouldBe(207);
        await host.Upstream.WaitForEventsAsync(1);
        await WaitForDeadLettersAsync(host, 1);
        host.Upstream.IngestionEvents.Single().Id.ShouldBe("score-1");
        var lines = await File.ReadAllLinesAsync(host.Relay.DeadLetterPath);
        lines.Length.ShouldBe(1);
        using var entry = JsonDocument.Parse(lines[0]);
        entry.RootElement.GetProperty("reason").GetString()!.ShouldContain("Event type not accepted");
        entry.RootElement.GetProperty("body").GetProperty("batch")[0].GetProperty("id").GetString().ShouldBe("trace-1");
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(host.Relay.DeadLetterPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await RelayIngressTests.WaitAsync(() => host.Relay.Queue.Stats.Records == 0); // nothing retried forever
    }

    [Fact]
    public async Task UpstreamRejectingAWholeRequest_DeadLettersIt()
    {
        await using var host = await RelayTestHost.StartAsync();
        host.Upstream.EnqueueFor(FakePath.Otlp, FakeResponse.Status(400));

        using var response = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(3), "application/x-protobuf"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        await WaitForDeadLettersAsync(host, 1);
        using var entry = JsonDocument.Parse((await File.ReadAllLinesAsync(host.Relay.DeadLetterPath)).Single());
        entry.RootElement.GetProperty("reason").GetString()!.ShouldStartWith("HTTP 400");
        entry.RootElement.GetProperty("bodyBase64").GetBytesFromBase64().ShouldBe(Requests.OtlpProtobuf(3));
    }

    [Fact]
    public async Task DiskFull_Answers503WithRetryAfter_AndAcceptsAgainOnceThereIsRoom()
    {
        var files = new FullDiskFileSystem();
        await using var host = await RelayTestHost.StartAsync(fileSystem: files);
        files.DiskFull = true;

        using (var refused = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(1), "application/x-protobuf")))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            refused.Headers.RetryAfter!.Delta!.Value.ShouldBeGreaterThan(TimeSpan.Zero);
        }

        using (var refused = await host.Client.PostAsync("/api/public/ingestion", Requests.Json(Requests.Batch(Requests.Score("e1")))))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            refused.Headers.RetryAfter.ShouldNotBeNull();
        }

        host.Relay.Metrics.Requests.ShouldBe(0);
        files.DiskFull = false;

        using var accepted = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(2), "application/x-protobuf"));
        accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
        await host.Upstream.WaitForSpansAsync(1);
        host.Upstream.Spans.Single().SpanId.ShouldBe(Requests.SpanId(2));
    }

    [Fact]
    public async Task BufferCapReached_Answers503_InsteadOfDroppingAcknowledgedData()
    {
        await using var upstream = await FakeLangfuseServer.StartAsync();
        upstream.FailAll(503, FakePath.Otlp);
        var directory = Path.Combine(Path.GetTempPath(), "langfuse-relay-tests", Guid.NewGuid().ToString("N"));
        var options = RelayTestHost.Options(upstream, directory);
        await using var relay = await RelayHost.StartAsync(
            new RelayOptions { Upstream = options.Upstream, ClientPublicKey = options.ClientPublicKey, ClientSecretKey = options.ClientSecretKey, BufferDirectory = directory, BufferMaxBytes = 2_000 },
            ["--urls", "http://127.0.0.1:0"],
            configureLogging: RelayTestHost.Quiet);
        using var client = new HttpClient { BaseAddress = relay.BaseUrl };
        client.DefaultRequestHeaders.Authorization = RelayTestHost.Basic(RelayTestHost.ClientPublicKey, RelayTestHost.ClientSecretKey);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(i, 3), "application/x-protobuf"));
            statuses.Add(response.StatusCode);
        }

        statuses.ShouldContain(HttpStatusCode.OK);
        statuses.ShouldContain(HttpStatusCode.ServiceUnavailable);
        var acknowledged = statuses.Count(s => s == HttpStatusCode.OK) * 3;
        relay.Queue.Stats.Items.ShouldBe(acknowledged); // nothing acknowledged was evicted
        upstream.Heal();
        await upstream.WaitForSpansAsync(acknowledged, TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// Waits until <paramref name="lines"/> whole lines are in the dead-letter file (the relay counts an entry just
    /// before it writes it, so the count alone may run ahead of the file).
    /// </summary>
    internal static Task WaitForDeadLettersAsync(RelayTestHost host, int lines) =>
        RelayIngressTests.WaitAsync(() => DeadLetterLines(host).Length >= lines);

    internal static string[] DeadLetterLines(RelayTestHost host)
    {
        try
        {
            var text = File.Exists(host.Relay.DeadLetterPath) ? File.ReadAllText(host.Relay.DeadLetterPath) : string.Empty;
            return text.EndsWith('\n') ? text.TrimEnd('\n').Split('\n') : [];
        }
        catch (IOException)
        {
            return [];
        }
    }

    [Fact]
    public async Task SecondRelay_OnTheSameBufferDirectory_RefusesToStart()
    {
        await using var host = await RelayTestHost.StartAsync();

        var start = () => RelayHost.StartAsync(RelayTestHost.Options(host.Upstream, host.Directory), ["--urls", "http://127.0.0.1:0"], configureLogging: RelayTestHost.Quiet);

        var error = await start.ShouldThrowAsync<RelayStartException>();
        error.Message.ShouldContain("another relay");
        error.Message.ShouldContain(RelayHost.LockFileName);
    }

    [Fact]
    public async Task Restart_ResumesForwardingWhatAnEarlierRunLeftOnDisk()
    {
        var directory = Path.Combine(Path.GetTempPath(), "langfuse-relay-tests", Guid.NewGuid().ToString("N"));
        await using var upstream = await FakeLangfuseServer.StartAsync();
        upstream.FailAll(503, FakePath.Otlp);
        await using (var first = await RelayHost.StartAsync(RelayTestHost.Options(upstream, directory), ["--urls", "http://127.0.0.1:0"], configureLogging: RelayTestHost.Quiet))
        {
            using var client = new HttpClient { BaseAddress = first.BaseUrl };
            client.DefaultRequestHeaders.Authorization = RelayTestHost.Basic(RelayTestHost.ClientPublicKey, RelayTestHost.ClientSecretKey);
            using var response = await client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(42, 5), "application/x-protobuf"));
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        upstream.Heal();
        await using var second = await RelayHost.StartAsync(RelayTestHost.Options(upstream, directory), ["--urls", "http://127.0.0.1:0"], configureLogging: RelayTestHost.Quiet);

        await upstream.WaitForSpansAsync(5, TimeSpan.FromSeconds(20));
        upstream.Spans.Select(s => s.SpanId).ShouldBe(Enumerable.Range(42, 5).Select(Requests.SpanId));
    }
}
