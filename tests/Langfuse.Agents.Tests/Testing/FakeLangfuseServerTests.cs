using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Langfuse.Agents.Testing;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;
using Langfuse.Agents.Testing.Otlp.Common.V1;
using Langfuse.Agents.Testing.Otlp.Resource.V1;
using Langfuse.Agents.Testing.Otlp.Trace.V1;
using Shouldly;
using Xunit;

// Test names follow the house style Method_Condition_Result (STYLE.md, item 13).
#pragma warning disable CA1707

namespace Langfuse.Agents.Tests.Testing;

public sealed class FakeLangfuseServerTests : IAsyncLifetime
{
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string RootSpanId = "b7ad6b7169203331";
    private const string ChildSpanId = "00f067aa0ba902b7";

    private FakeLangfuseServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeLangfuseServer.StartAsync();
        _client = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Otlp_ProtobufRequest_DecodesIntoReceivedSpans()
    {
        var response = await PostProtobufAsync(BuildExport());

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe("{}");
        var spans = _server.Spans;
        spans.Count.ShouldBe(2);

        var root = spans.Single(s => s.SpanId == RootSpanId);
        root.TraceId.ShouldBe(TraceId);
        root.ParentSpanId.ShouldBeNull();
        root.IsRoot.ShouldBeTrue();
        root.Name.ShouldBe("agent run");
        root.Kind.ShouldBe(2);
        root.Type.ShouldBe("agent");
        root.StartTimeUnixNano.ShouldBe(1_795_239_544_067_000_123UL);
        root.StartTime.ShouldBe(DateTimeOffset.FromUnixTimeMilliseconds(1_795_239_544_067).AddTicks(1));
        root.EndTime.ShouldBe(DateTimeOffset.FromUnixTimeMilliseconds(1_795_239_545_000));
        root.StatusCode.ShouldBe(2);
        root.StatusMessage.ShouldBe("boom");
        root.Flags.ShouldBe(0x101u);
        root.TraceState.ShouldBe("vendor=x");
        root.ResourceAttributes["service.name"].ShouldBe("checkout");
        root.ResourceAttr("service.name").ShouldBe("checkout");
        root.ScopeName.ShouldBe("Langfuse.Agents");
        root.ScopeVersion.ShouldBe("0.1.0");
        root.ContentType.ShouldBe("application/x-protobuf");

        root.Attributes["s"].ShouldBe("text");
        root.Attributes["b"].ShouldBe(true);
        root.Attributes["i"].ShouldBe(42L);
        root.Attributes["d"].ShouldBe(1.5);
        root.Attributes["arr"].ShouldBe(new object?[] { "a", 2L });
        var map = root.Attributes["map"].ShouldBeAssignableTo<IReadOnlyDictionary<string, object?>>()!;
        map["k"].ShouldBe("v");
        root.Attributes["bytes"].ShouldBe(new byte[] { 1, 2, 3 });
        root.Attr("b").ShouldBe("true");
        root.Attr("i").ShouldBe("42");
        root.Attr("d").ShouldBe("1.5");
        root.Attr("arr").ShouldBe("[\"a\",2]");
        root.Attr("missing").ShouldBeNull();
        root.Attributes["dup"].ShouldBe("first");
        root.Events.Single().Name.ShouldBe("exception");
        root.Events.Single().Attributes["exception.type"].ShouldBe("System.InvalidOperationException");
        root.LinkCount.ShouldBe(1);

        var child = spans.Single(s => s.SpanId == ChildSpanId);
        child.ParentSpanId.ShouldBe(RootSpanId);
        child.Type.ShouldBe("generation");
        child.AttrJson("langfuse.observation.usage_details")!.Value.GetProperty("input").GetInt32().ShouldBe(10);
        _server.Violations.ShouldBeEmpty();
    }

    [Fact]
    public async Task Otlp_JsonSampleFromJsSdk_IsDecoded()
    {
        using var content = new StringContent(OtlpSamples.JsSdkOtlpJson, Encoding.UTF8, "application/json");

        var response = await _client.PostAsync(FakeLangfuseServer.OtlpPath, content);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var spans = _server.Spans;
        spans.Select(s => s.Name).ShouldBe(["plan", "web_search", "coordinator"]);
        spans.ShouldAllBe(s => s.TraceId == "c839a403cbf9db02d69c8baa704ebeda" && s.Kind == 1 && s.Flags == 257u);
        var plan = spans[0];
        plan.SpanId.ShouldBe("364d252163b4424b");
        plan.ParentSpanId.ShouldBe("4b49e05982b2d55a");
        plan.Type.ShouldBe("generation");
        plan.Attr("langfuse.observation.model.name").ShouldBe("gpt-4o");
        plan.StartTimeUnixNano.ShouldBe(1795239544069000000UL);
        plan.EndTimeUnixNano.ShouldBe(1795239544069407254UL);
        plan.ResourceAttr("telemetry.sdk.language").ShouldBe("nodejs");
        plan.ScopeName.ShouldBe("langfuse-sdk");
        plan.ScopeVersion.ShouldBe("5.11.1");
        var coordinator = spans[2];
        coordinator.ParentSpanId.ShouldBeNull();
        coordinator.Attributes["langfuse.internal.is_app_root"].ShouldBe(true);
        coordinator.Type.ShouldBe("span");
    }

    [Fact]
    public async Task Otlp_JsonWithNumericInt64_IsDecoded()
    {
        var json = OtlpSamples.JsSdkOtlpJson.Replace("\"1795239544067000000\"", "1795239544067000000", StringComparison.Ordinal);

        var response = await _client.PostAsync(FakeLangfuseServer.OtlpPath, new StringContent(json, Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        _server.Spans.Single(s => s.Name == "coordinator").StartTimeUnixNano.ShouldBe(1795239544067000000UL);
    }

    [Fact]
    public async Task Otlp_GzipBody_IsAccepted()
    {
        using var content = new ByteArrayContent(Gzip(BuildExport().ToByteArray()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        content.Headers.ContentEncoding.Add("gzip");

        var response = await _client.PostAsync(FakeLangfuseServer.OtlpPath, content);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        _server.Spans.Count.ShouldBe(2);
        _server.Requests.Single().ContentEncoding.ShouldBe("gzip");
    }

    [Fact]
    public async Task Otlp_SpanWithoutSpanId_RejectsWholeRequest()
    {
        var export = BuildExport();
        export.ResourceSpans[0].ScopeSpans[0].Spans[1].SpanId = ByteString.Empty;

        var response = await PostProtobufAsync(export);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        _server.Spans.ShouldBeEmpty();
        _server.Requests.Single().StatusCode.ShouldBe(400);
    }

    [Fact]
    public async Task Otlp_JsonSpanWithoutTraceId_RejectsWholeRequest()
    {
        var root = JsonNode.Parse(OtlpSamples.JsSdkOtlpJson)!;
        var coordinator = root["resourceSpans"]![0]!["scopeSpans"]![0]!["spans"]![2]!.AsObject();
        coordinator.Remove("traceId").ShouldBeTrue();
        var json = root.ToJsonString();

        var response = await _client.PostAsync(FakeLangfuseServer.OtlpPath, new StringContent(json, Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        _server.Spans.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("application/protobuf")]
    [InlineData("text/plain")]
    public async Task Otlp_UnsupportedContentType_Is400(string contentType)
    {
        using var content = new ByteArrayContent(BuildExport().ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);

        var response = await _client.PostAsync(FakeLangfuseServer.OtlpPath, content);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        _server.Spans.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("4", HttpStatusCode.OK)]
    [InlineData("5", HttpStatusCode.BadRequest)]
    public async Task Otlp_IngestionVersionHeader_AboveFourIsRejected(string version, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, FakeLangfuseServer.OtlpPath) { Content = ProtobufContent(BuildExport()) };
        request.Headers.Add("x-langfuse-ingestion-version", version);

        var response = await _client.SendAsync(request);

        response.StatusCode.ShouldBe(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("pk-lf-test:wrong-secret")]
    [InlineData("pk-lf-other:sk-lf-test")]
    [InlineData("no-colon")]
    public async Task Auth_Invalid_Is401WithoutEchoingSecrets(string? credentials)
    {
        using var client = new HttpClient { BaseAddress = _server.BaseUrl };
        if (credentials is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        var otlp = await client.PostAsync(FakeLangfuseServer.OtlpPath, ProtobufContent(BuildExport()));
        var ingestion = await client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(ScoreBatch()));

        otlp.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        ingestion.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var body = await otlp.Content.ReadAsStringAsync();
        JsonNode.Parse(body)!["message"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
        body.ShouldNotContain("sk-lf");
        (await ingestion.Content.ReadAsStringAsync()).ShouldNotContain("sk-lf");
        _server.Spans.ShouldBeEmpty();
        _server.IngestionEvents.ShouldBeEmpty();
    }

    [Fact]
    public async Task Otlp_V2Server_Answers404()
    {
        _server.Version = FakeLangfuseVersion.V2;

        var response = await PostProtobufAsync(BuildExport());

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        _server.Spans.ShouldBeEmpty();
    }

    [Fact]
    public async Task Otlp_BodyAboveConfiguredMaximum_Is413()
    {
        await using var server = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { MaxOtlpBodyBytes = 100 });
        using var client = server.CreateClient();
        var small = new ExportTraceServiceRequest();
        small.ResourceSpans.Add(new ResourceSpans());

        var tooBig = await client.PostAsync(FakeLangfuseServer.OtlpPath, ProtobufContent(BuildExport()));
        var fits = await client.PostAsync(FakeLangfuseServer.OtlpPath, ProtobufContent(small));

        tooBig.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        fits.StatusCode.ShouldBe(HttpStatusCode.OK);
        server.Spans.ShouldBeEmpty();
    }

    [Fact]
    public async Task Ingestion_V4_RejectsTraceCreatePerEvent_AcceptsScoreCreate()
    {
        var batch = new JsonObject
        {
            ["batch"] = new JsonArray(
                Event("e-trace", "trace-create", new JsonObject { ["id"] = "t1", ["name"] = "trace" }),
                Event("e-score", "score-create", Score("s1"))),
        };

        var response = await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(batch));

        response.StatusCode.ShouldBe((HttpStatusCode)207);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        result["successes"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()).ShouldBe(["e-score"]);
        result["successes"]![0]!["status"]!.GetValue<int>().ShouldBe(201);
        var error = result["errors"]!.AsArray().Single()!;
        error["id"]!.GetValue<string>().ShouldBe("e-trace");
        error["status"]!.GetValue<int>().ShouldBe(400);
        error["message"]!.GetValue<string>().ShouldBe("Event type not accepted");
        var accepted = _server.IngestionEvents.Single();
        accepted.Type.ShouldBe("score-create");
        accepted.BodyId.ShouldBe("s1");
        accepted.Name.ShouldBe("accuracy");
    }

    [Fact]
    public async Task Ingestion_V3_AcceptsLegacyJsSdkSample()
    {
        _server.Version = FakeLangfuseVersion.V3;

        var response = await _client.PostAsync(
            FakeLangfuseServer.IngestionPath,
            new StringContent(OtlpSamples.LegacyIngestionBatch, Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe((HttpStatusCode)207);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        result["errors"]!.AsArray().ShouldBeEmpty();
        result["successes"]!.AsArray().Count.ShouldBe(6);
        _server.IngestionEvents.Select(e => e.Type).ShouldBe(
            ["score-create", "trace-create", "generation-update", "span-update", "span-create", "generation-create"]);
        var generation = _server.IngestionEvents[5];
        generation.TraceId.ShouldBe("0f5cc425-2771-4fe7-af9f-a36094982616");
        generation.Body.GetProperty("usage").GetProperty("output").GetInt32().ShouldBe(20);
        generation.ParsedTimestamp.ShouldBe(DateTimeOffset.Parse("2026-11-21T05:38:59.654Z", System.Globalization.CultureInfo.InvariantCulture));
        _server.Violations.ShouldBeEmpty();
        _server.SilentlyDropped.ShouldBe(0);
    }

    [Fact]
    public async Task Ingestion_ScoreWithoutBodyId_IsAnswered201ButSilentlyDropped()
    {
        var body = Score(id: null);

        var response = await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(Batch(Event("e1", "score-create", body))));

        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        result["successes"]![0]!["status"]!.GetValue<int>().ShouldBe(201);
        _server.IngestionEvents.ShouldBeEmpty();
        _server.SilentlyDropped.ShouldBe(1);
    }

    [Fact]
    public async Task Ingestion_BodyAbove4_5MB_Is413()
    {
        var padding = new string('x', (int)FakeLangfuseOptions.DefaultMaxIngestionBodyBytes);
        var batch = Batch(Event("e1", "score-create", Score("s1", comment: padding)));

        var response = await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(batch));

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).ShouldBe("Body exceeded 4.5mb limit");
        _server.IngestionEvents.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("{\"batch\": {}}")]
    [InlineData("not json")]
    public async Task Ingestion_BodyNotABatch_Is400(string body)
    {
        var response = await _client.PostAsync(FakeLangfuseServer.IngestionPath, new StringContent(body, Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    public static TheoryData<string, string> InvalidEvents() => new()
    {
        { "empty envelope id", """{"id":"","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","name":"n","value":1,"traceId":"t"}}""" },
        { "timestamp without zone", """{"id":"e","type":"score-create","timestamp":"2026-01-01T00:00:00","body":{"id":"s","name":"n","value":1,"traceId":"t"}}""" },
        { "unknown type", """{"id":"e","type":"trace-delete","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s"}}""" },
        { "score without name", """{"id":"e","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","value":1,"traceId":"t"}}""" },
        { "BOOLEAN score of 2", """{"id":"e","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","name":"n","value":2,"dataType":"BOOLEAN","traceId":"t"}}""" },
        { "NUMERIC score with string", """{"id":"e","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","name":"n","value":"1","dataType":"NUMERIC","traceId":"t"}}""" },
        { "CATEGORICAL score with number", """{"id":"e","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","name":"n","value":1,"dataType":"CATEGORICAL","traceId":"t"}}""" },
        { "TEXT score of 501 chars", "{\"id\":\"e\",\"type\":\"score-create\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"body\":{\"id\":\"s\",\"name\":\"n\",\"value\":\"" + new string('a', 501) + "\",\"dataType\":\"TEXT\",\"traceId\":\"t\"}}" },
        { "score with two targets", """{"id":"e","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","name":"n","value":1,"traceId":"t","sessionId":"x"}}""" },
        { "score without target", """{"id":"e","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","name":"n","value":1}}""" },
        { "observationId without traceId", """{"id":"e","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","name":"n","value":1,"sessionId":"x","observationId":"o"}}""" },
        { "observation without body.id", """{"id":"e","type":"span-create","timestamp":"2026-01-01T00:00:00Z","body":{"traceId":"t"}}""" },
        { "negative usageDetails", """{"id":"e","type":"generation-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"g","traceId":"t","usageDetails":{"input":-1}}}""" },
        { "fractional usageDetails", """{"id":"e","type":"generation-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"g","traceId":"t","usageDetails":{"input":1.5}}}""" },
        { "negative costDetails", """{"id":"e","type":"generation-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"g","traceId":"t","costDetails":{"total":-0.1}}}""" },
        { "negative legacy usage", """{"id":"e","type":"generation-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"g","traceId":"t","usage":{"input":-3}}}""" },
        { "promptName without promptVersion", """{"id":"e","type":"generation-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"g","traceId":"t","promptName":"p"}}""" },
        { "unknown level", """{"id":"e","type":"span-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"g","traceId":"t","level":"FATAL"}}""" },
    };

    [Theory]
    [MemberData(nameof(InvalidEvents))]
    public async Task Ingestion_InvalidEvent_IsPerEvent400(string because, string eventJson)
    {
        _server.Version = FakeLangfuseVersion.V3;
        var batch = Batch(JsonNode.Parse(eventJson)!, Event("ok", "score-create", Score("s-ok")));

        var response = await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(batch));

        response.StatusCode.ShouldBe((HttpStatusCode)207, because);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var error = result["errors"]!.AsArray().ShouldHaveSingleItem(because)!;
        error["status"]!.GetValue<int>().ShouldBe(400, because);
        error["error"]!.GetValue<string>().ShouldNotBeNullOrEmpty(because);
        _server.IngestionEvents.Select(e => e.Id).ShouldBe(["ok"], because);
    }

    [Theory]
    [InlineData("""{"id":"g","traceId":"t","usageDetails":{"input":10,"output":0},"costDetails":{"total":0.5},"promptName":"p","promptVersion":3,"level":"WARNING"}""")]
    [InlineData("""{"id":"g","traceId":"t","usage":{"input":10,"unit":"TOKENS","inputCost":0.25}}""")]
    public async Task Ingestion_ValidGeneration_IsAcceptedOnV3(string body)
    {
        _server.Version = FakeLangfuseVersion.V3;

        var response = await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(Batch(Event("e", "generation-create", JsonNode.Parse(body)!))));

        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        result["errors"]!.AsArray().ShouldBeEmpty();
        _server.IngestionEvents.Single().BodyId.ShouldBe("g");
    }

    [Fact]
    public async Task Ingestion_ObservationWithoutTraceId_IsAcceptedButRecordedAsViolation()
    {
        _server.Version = FakeLangfuseVersion.V3;

        await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(Batch(Event("e", "span-create", new JsonObject { ["id"] = "o1" }))));

        _server.IngestionEvents.Single().BodyId.ShouldBe("o1");
        _server.Violations.ShouldHaveSingleItem().ShouldContain("traceId");
    }

    [Fact]
    public async Task FailEvent_MatchingEventComesBackAsPerEventError_ForTheGivenNumberOfTimes()
    {
        _server.FailEvent(e => e.BodyId == "s1", status: 500, message: "boom", times: 1);
        var batch = Batch(Event("e1", "score-create", Score("s1")), Event("e2", "score-create", Score("s2")));

        var first = JsonNode.Parse(await (await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(batch))).Content.ReadAsStringAsync())!;
        var second = JsonNode.Parse(await (await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(batch))).Content.ReadAsStringAsync())!;

        var error = first["errors"]!.AsArray().Single()!;
        error["id"]!.GetValue<string>().ShouldBe("e1");
        error["status"]!.GetValue<int>().ShouldBe(500);
        error["message"]!.GetValue<string>().ShouldBe("boom");
        second["errors"]!.AsArray().ShouldBeEmpty();
        _server.IngestionEvents.Select(e => e.BodyId).ShouldBe(["s2", "s1", "s2"]);
    }

    [Fact]
    public async Task Enqueue_503ThenSuccess_FirstFailsSecondIsRecorded()
    {
        _server.Enqueue(FakeResponse.Status(503));

        var first = await PostProtobufAsync(BuildExport());
        var second = await PostProtobufAsync(BuildExport());

        first.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        second.StatusCode.ShouldBe(HttpStatusCode.OK);
        _server.Spans.Count.ShouldBe(2);
        _server.Requests.Select(r => r.StatusCode).ShouldBe([503, 200]);
        _server.Requests[0].Fault.ShouldNotBeNull();
        _server.PendingResponses.ShouldBe(0);
    }

    [Fact]
    public async Task Enqueue_429_CarriesRetryAfterAndRateLimitBody()
    {
        _server.Enqueue(FakeResponse.Status(429, retryAfter: "2"));

        var response = await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(ScoreBatch()));

        response.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(2));
        response.Headers.GetValues("X-RateLimit-Limit").ShouldHaveSingleItem();
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        body["code"]!.GetValue<string>().ShouldBe("rate_limited");
        body["message"]!.GetValue<string>().ShouldBe("Rate limit exceeded");
        body["details"]!["retryAfterSeconds"]!.GetValue<int>().ShouldBe(2);
        _server.IngestionEvents.ShouldBeEmpty();
    }

    [Fact]
    public async Task EnqueueFor_OnlyAffectsTheGivenPath()
    {
        _server.EnqueueFor(FakePath.Ingestion, FakeResponse.Status(500));

        var otlp = await PostProtobufAsync(BuildExport());
        var ingestion = await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(ScoreBatch()));

        otlp.StatusCode.ShouldBe(HttpStatusCode.OK);
        ingestion.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
    }

    [Fact]
    public async Task DropConnection_ClientSeesHttpRequestException()
    {
        _server.Enqueue(FakeResponse.DropConnection());

        await Should.ThrowAsync<HttpRequestException>(() => PostProtobufAsync(BuildExport()));

        _server.Spans.ShouldBeEmpty();
        _server.Requests.Single().StatusCode.ShouldBe(0);
        (await PostProtobufAsync(BuildExport())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Delay_HoldsTheAnswerBack_SoAShortClientTimeoutFires()
    {
        _server.Enqueue(FakeResponse.Delay(TimeSpan.FromSeconds(30)));
        using var impatient = _server.CreateClient();
        impatient.Timeout = TimeSpan.FromMilliseconds(200);

        await Should.ThrowAsync<TaskCanceledException>(() => impatient.PostAsync(FakeLangfuseServer.OtlpPath, ProtobufContent(BuildExport())));

        await _server.WaitForRequestsAsync(1);
        _server.Spans.ShouldBeEmpty();
    }

    [Fact]
    public async Task Delay_ThenAnswersNormally()
    {
        _server.Enqueue(FakeResponse.Delay(TimeSpan.FromMilliseconds(1)));

        var response = await PostProtobufAsync(BuildExport());

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        _server.Spans.Count.ShouldBe(2);
    }

    [Fact]
    public async Task FailAll_FailsUntilHealed()
    {
        _server.FailAll(502);

        var during = await PostProtobufAsync(BuildExport());
        var duringAgain = await _client.PostAsync(FakeLangfuseServer.IngestionPath, JsonContent(ScoreBatch()));
        var health = await _client.GetAsync(FakeLangfuseServer.HealthPath);
        _server.Heal();
        var after = await PostProtobufAsync(BuildExport());

        during.StatusCode.ShouldBe(HttpStatusCode.BadGateway);
        duringAgain.StatusCode.ShouldBe(HttpStatusCode.BadGateway);
        health.StatusCode.ShouldBe(HttpStatusCode.OK);
        after.StatusCode.ShouldBe(HttpStatusCode.OK);
        _server.Spans.Count.ShouldBe(2);
    }

    [Fact]
    public async Task Health_ReportsOkAndVersion()
    {
        using var anonymous = new HttpClient { BaseAddress = _server.BaseUrl };

        var response = await anonymous.GetAsync(FakeLangfuseServer.HealthPath);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        body["status"]!.GetValue<string>().ShouldBe("OK");
        body["version"]!.GetValue<string>().ShouldStartWith("4.");
    }

    [Fact]
    public async Task Requests_RecordHeadersCaseInsensitively()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, FakeLangfuseServer.OtlpPath) { Content = ProtobufContent(BuildExport()) };
        request.Headers.Add("x-langfuse-sdk-name", "dotnet");

        await _client.SendAsync(request);

        var recorded = _server.Requests.Single();
        recorded.Method.ShouldBe("POST");
        recorded.Path.ShouldBe(FakeLangfuseServer.OtlpPath);
        recorded.Header("X-Langfuse-Sdk-Name").ShouldBe("dotnet");
        recorded.Headers["X-LANGFUSE-SDK-NAME"].ShouldBe("dotnet");
        recorded.ContentType.ShouldBe("application/x-protobuf");
        recorded.BodyLength.ShouldBe(BuildExport().CalculateSize());
        recorded.StatusCode.ShouldBe(200);
    }

    [Fact]
    public async Task WaitForSpansAsync_CompletesWhenSpansArriveLater()
    {
        var waiting = _server.WaitForSpansAsync(2, TimeSpan.FromSeconds(10));
        waiting.IsCompleted.ShouldBeFalse();

        await PostProtobufAsync(BuildExport());

        await waiting;
        _server.Spans.Count.ShouldBe(2);
    }

    [Fact]
    public async Task WaitForEventsAsync_TimesOutWithWhatWasReceived()
    {
        await PostProtobufAsync(BuildExport());

        var ex = await Should.ThrowAsync<TimeoutException>(() => _server.WaitForEventsAsync(1, TimeSpan.FromMilliseconds(100)));

        ex.Message.ShouldContain("1 ingestion event(s)");
        ex.Message.ShouldContain("agent run");
        ex.Message.ShouldContain(FakeLangfuseServer.OtlpPath);
        ex.Message.ShouldNotContain("sk-lf-test");
    }

    private static ExportTraceServiceRequest BuildExport()
    {
        var root = new Span
        {
            TraceId = ByteString.CopyFrom(Convert.FromHexString(TraceId)),
            SpanId = ByteString.CopyFrom(Convert.FromHexString(RootSpanId)),
            TraceState = "vendor=x",
            Name = "agent run",
            Kind = Span.Types.SpanKind.Server,
            StartTimeUnixNano = 1_795_239_544_067_000_123UL,
            EndTimeUnixNano = 1_795_239_545_000_000_000UL,
            Flags = 0x101,
            Status = new Status { Code = Status.Types.StatusCode.Error, Message = "boom" },
        };
        root.Attributes.Add(Kv("langfuse.observation.type", new AnyValue { StringValue = "agent" }));
        root.Attributes.Add(Kv("s", new AnyValue { StringValue = "text" }));
        root.Attributes.Add(Kv("b", new AnyValue { BoolValue = true }));
        root.Attributes.Add(Kv("i", new AnyValue { IntValue = 42 }));
        root.Attributes.Add(Kv("d", new AnyValue { DoubleValue = 1.5 }));
        var array = new ArrayValue();
        array.Values.Add(new AnyValue { StringValue = "a" });
        array.Values.Add(new AnyValue { IntValue = 2 });
        root.Attributes.Add(Kv("arr", new AnyValue { ArrayValue = array }));
        var map = new KeyValueList();
        map.Values.Add(Kv("k", new AnyValue { StringValue = "v" }));
        root.Attributes.Add(Kv("map", new AnyValue { KvlistValue = map }));
        root.Attributes.Add(Kv("bytes", new AnyValue { BytesValue = ByteString.CopyFrom(1, 2, 3) }));
        root.Attributes.Add(Kv("dup", new AnyValue { StringValue = "first" }));
        root.Attributes.Add(Kv("dup", new AnyValue { StringValue = "second" }));
        var exception = new Span.Types.Event { Name = "exception", TimeUnixNano = 1_795_239_544_500_000_000UL };
        exception.Attributes.Add(Kv("exception.type", new AnyValue { StringValue = "System.InvalidOperationException" }));
        root.Events.Add(exception);
        root.Links.Add(new Span.Types.Link { TraceId = root.TraceId, SpanId = root.SpanId });

        var child = new Span
        {
            TraceId = root.TraceId,
            SpanId = ByteString.CopyFrom(Convert.FromHexString(ChildSpanId)),
            ParentSpanId = root.SpanId,
            Name = "llm call",
            Kind = Span.Types.SpanKind.Client,
            StartTimeUnixNano = 1_795_239_544_100_000_000UL,
            EndTimeUnixNano = 1_795_239_544_900_000_000UL,
        };
        child.Attributes.Add(Kv("langfuse.observation.type", new AnyValue { StringValue = "generation" }));
        child.Attributes.Add(Kv("langfuse.observation.usage_details", new AnyValue { StringValue = "{\"input\":10,\"output\":20}" }));

        var scopeSpans = new ScopeSpans { Scope = new InstrumentationScope { Name = "Langfuse.Agents", Version = "0.1.0" } };
        scopeSpans.Spans.Add(root);
        scopeSpans.Spans.Add(child);
        var resource = new Resource();
        resource.Attributes.Add(Kv("service.name", new AnyValue { StringValue = "checkout" }));
        var resourceSpans = new ResourceSpans { Resource = resource };
        resourceSpans.ScopeSpans.Add(scopeSpans);
        var export = new ExportTraceServiceRequest();
        export.ResourceSpans.Add(resourceSpans);
        return export;
    }

    private static KeyValue Kv(string key, AnyValue value) => new() { Key = key, Value = value };

    private static ByteArrayContent ProtobufContent(IMessage message)
    {
        var content = new ByteArrayContent(message.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }

    private async Task<HttpResponseMessage> PostProtobufAsync(IMessage message) =>
        await _client.PostAsync(FakeLangfuseServer.OtlpPath, ProtobufContent(message));

    private static StringContent JsonContent(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    private static JsonObject Event(string id, string type, JsonNode body) => new()
    {
        ["id"] = id,
        ["type"] = type,
        ["timestamp"] = "2026-11-21T05:38:59.654Z",
        ["body"] = body,
    };

    private static JsonObject Score(string? id, string? comment = null)
    {
        var score = new JsonObject { ["name"] = "accuracy", ["value"] = 0.9, ["traceId"] = TraceId };
        if (id is not null)
        {
            score["id"] = id;
        }

        if (comment is not null)
        {
            score["comment"] = comment;
        }

        return score;
    }

    private static JsonObject Batch(params JsonNode[] events) => new()
    {
        ["batch"] = new JsonArray(events),
        ["metadata"] = new JsonObject { ["sdk_name"] = "tests" },
    };

    private static JsonObject ScoreBatch() => Batch(Event("e1", "score-create", Score("s1")));

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
