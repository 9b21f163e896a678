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

        await host.Upstream.WaitForSpansAsync(16, LoadedMachine.HangGuard);
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
    public async Task UpstreamPerEventRejections_OnTheirMerits_AreCounted_AndKeptInTheDeadLetterFile()
    {
        await using var host = await RelayTestHost.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V4 });
        host.Upstream.FailEvent(e => e.Id == "score-2", status: 400, message: "Score value does not match the score config");

        using var response = await host.Client.PostAsync("/api/public/ingestion", Requests.Json(Requests.Batch(Requests.Score("score-1"), Requests.Score("score-2"))));

        ((int)response.StatusCode).ShouldBe(207);
        await host.Upstream.WaitForEventsAsync(1);
        await WaitForDeadLettersAsync(host, 1);
        host.Upstream.IngestionEvents.Single().Id.ShouldBe("score-1");
        var lines = DeadLetterLines(host);
        lines.Length.ShouldBe(1, string.Join("\n", lines));
        using var entry = JsonDocument.Parse(lines[0]);
        entry.RootElement.GetProperty("reason").GetString()!.ShouldContain("Score value does not match");
        entry.RootElement.GetProperty("body").GetProperty("batch")[0].GetProperty("id").GetString().ShouldBe("score-2");
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(host.Relay.DeadLetterPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await RelayIngressTests.WaitAsync(() => host.Relay.Queue.Stats.Records == 0); // nothing retried forever
    }

    [Fact]
    public async Task LegacyEventsForAV4Upstream_AreTranslatedToOtlp_WithTheirIdsParentsAndFields_NotDeadLettered()
    {
        // Must-hold 8: an old SDK (legacy batch events) pointed at the relay keeps working with a v4 Langfuse, which
        // takes observations only as OTLP. The ids are the old SDK's UUIDs, kept verbatim (as Langfuse keeps string ids).
        await using var host = await RelayTestHost.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V4, AcceptStringIds = true });
        const string trace = "0f5cc425-2771-4fe7-af9f-a36094982616";
        const string span = "d2580291-68c2-40fe-9274-66df5f6b3cf8";
        const string generation = "cd94e794-fcf0-4928-8fe2-1ada0234fc64";
        var batch = $$$"""
            {"batch":[
              {"id":"ev-score","type":"score-create","timestamp":"2026-11-21T05:38:59.632Z","body":{"id":"sc-1","name":"quality","value":1,"traceId":"{{{trace}}}"}},
              {"id":"ev-trace","type":"trace-create","timestamp":"2026-11-21T05:38:59.654Z","body":{"id":"{{{trace}}}","timestamp":"2026-11-21T05:38:59.631Z","name":"research-query","sessionId":"s1","userId":"u1","input":"What is new?","tags":["a","b"],"release":"r1","metadata":{"k":"v"} }},
              {"id":"ev-gen-update","type":"generation-update","timestamp":"2026-11-21T05:38:59.656Z","body":{"id":"{{{generation}}}","traceId":"{{{trace}}}","output":"plan text","endTime":"2026-11-21T05:38:59.700Z"}},
              {"id":"ev-span-update","type":"span-update","timestamp":"2026-11-21T05:38:59.657Z","body":{"id":"{{{span}}}","traceId":"{{{trace}}}","output":"done","endTime":"2026-11-21T05:38:59.800Z","level":"ERROR","statusMessage":"tool failed"}},
              {"id":"ev-span","type":"span-create","timestamp":"2026-11-21T05:38:59.654Z","body":{"id":"{{{span}}}","startTime":"2026-11-21T05:38:59.631Z","name":"coordinator","input":{"q":1},"traceId":"{{{trace}}}","parentObservationId":null}},
              {"id":"ev-gen","type":"generation-create","timestamp":"2026-11-21T05:38:59.654Z","body":{"id":"{{{generation}}}","startTime":"2026-11-21T05:38:59.640Z","name":"plan","model":"gpt-4o","modelParameters":{"temperature":0.2},"input":[{"role":"user","content":"hi"}],"usage":{"input":10,"output":20,"unit":"TOKENS"},"traceId":"{{{trace}}}","parentObservationId":"{{{span}}}"}}
            ],"metadata":{"sdk_name":"langfuse-js","sdk_version":"3.38.0"}}
            """;

        using var response = await host.Client.PostAsync("/api/public/ingestion", Requests.Json(batch));

        ((int)response.StatusCode).ShouldBe(207);
        await host.Upstream.WaitForSpansAsync(2, LoadedMachine.HangGuard);
        await RelayIngressTests.WaitAsync(() => host.Relay.Queue.Stats.Records == 0);
        host.Upstream.IngestionEvents.Select(e => e.Id).ShouldBe(["ev-score"]);
        File.Exists(host.Relay.DeadLetterPath).ShouldBeFalse("nothing Langfuse would take is thrown away");
        host.Upstream.Violations.ShouldBeEmpty();

        var spans = host.Upstream.Spans;
        spans.Count.ShouldBe(2);
        var root = spans.Single(s => s.SpanId == span);
        root.TraceId.ShouldBe(trace);
        root.ParentSpanId.ShouldBeNull();
        root.Name.ShouldBe("coordinator");
        root.Type.ShouldBe("span");
        root.Attr("langfuse.observation.input").ShouldBe("""{"q":1}""");
        root.Attr("langfuse.observation.output").ShouldBe("\"done\"");
        root.Attr("langfuse.observation.level").ShouldBe("ERROR");
        root.Attr("langfuse.observation.status_message").ShouldBe("tool failed");
        root.StatusCode.ShouldBe(2);
        root.StartTime.ShouldBe(DateTimeOffset.Parse("2026-11-21T05:38:59.631Z", System.Globalization.CultureInfo.InvariantCulture));
        root.EndTime.ShouldBe(DateTimeOffset.Parse("2026-11-21T05:38:59.800Z", System.Globalization.CultureInfo.InvariantCulture));
        root.Attr("langfuse.trace.name").ShouldBe("research-query");
        root.Attr("langfuse.trace.input").ShouldBe("\"What is new?\"");
        root.Attr("langfuse.session.id").ShouldBe("s1");
        root.Attr("langfuse.user.id").ShouldBe("u1");
        root.Attr("langfuse.release").ShouldBe("r1");
        root.Attr("langfuse.trace.metadata").ShouldBe("""{"k":"v"}""");

        var plan = spans.Single(s => s.SpanId == generation);
        plan.TraceId.ShouldBe(trace);
        plan.ParentSpanId.ShouldBe(span);
        plan.Type.ShouldBe("generation");
        plan.Name.ShouldBe("plan");
        plan.Attr("langfuse.observation.model.name").ShouldBe("gpt-4o");
        plan.Attr("langfuse.observation.model.parameters").ShouldBe("""{"temperature":0.2}""");
        plan.Attr("langfuse.observation.usage_details").ShouldBe("""{"input":10,"output":20}""");
        plan.Attr("langfuse.observation.output").ShouldBe("\"plan text\"", "the update is merged into its create");
        plan.Attr("langfuse.trace.input").ShouldBeNull("trace input rides on the root only");
        plan.Attr("langfuse.session.id").ShouldBe("s1");
        host.Relay.ForwarderMetrics.Snapshot().Exported.ShouldBe(6, "every acknowledged event is accounted as forwarded");
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
        await upstream.WaitForSpansAsync(acknowledged, LoadedMachine.HangGuard);
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

        await upstream.WaitForSpansAsync(5, LoadedMachine.HangGuard);
        upstream.Spans.Select(s => s.SpanId).ShouldBe(Enumerable.Range(42, 5).Select(Requests.SpanId));
    }
}
