using System.Net;
using System.Text;
using System.Text.Json;
using Langfuse.Agents.Testing;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>What clients see: Langfuse's answers and error shapes, and what reaches the upstream.</summary>
public sealed class RelayIngressTests : IAsyncLifetime
{
    private RelayTestHost _host = null!;

    public async Task InitializeAsync() => _host = await RelayTestHost.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task OtlpProtobuf_IsAcknowledgedWith200_AndForwardedByteIdentical()
    {
        var body = Requests.OtlpProtobuf(1, count: 3);

        using var response = await _host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(body, "application/x-protobuf"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe("{}");
        await _host.Upstream.WaitForSpansAsync(3);
        var forwarded = _host.Upstream.Requests.Single(r => r.Path == FakeLangfuseServer.OtlpPath);
        forwarded.Body.ShouldBe(body);
        forwarded.ContentType.ShouldBe("application/x-protobuf");
        forwarded.Header("Authorization").ShouldBe(_host.Upstream.CreateAuthorizationHeader().ToString()); // the relay's own upstream keys
        _host.Relay.Metrics.Items.ShouldBe(3);
    }

    [Fact]
    public async Task OtlpJson_IsForwardedWithItsContentType()
    {
        var body = Encoding.UTF8.GetBytes(Requests.OtlpJson(5));

        using var response = await _host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(body, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        await _host.Upstream.WaitForSpansAsync(1);
        var forwarded = _host.Upstream.Requests.Single(r => r.Path == FakeLangfuseServer.OtlpPath);
        forwarded.Body.ShouldBe(body);
        forwarded.ContentType!.ShouldStartWith("application/json");
        _host.Upstream.Spans.Single().SpanId.ShouldBe(Requests.SpanId(5));
    }

    [Fact]
    public async Task OtlpGzip_IsStoredAndForwardedAsReceived()
    {
        var plain = Requests.OtlpProtobuf(10, count: 2);
        var gzipped = Requests.Gzip(plain);

        using var response = await _host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(gzipped, "application/x-protobuf", "gzip"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        await _host.Upstream.WaitForSpansAsync(2);
        var forwarded = _host.Upstream.Requests.Single(r => r.Path == FakeLangfuseServer.OtlpPath);
        forwarded.ContentEncoding.ShouldBe("gzip");
        forwarded.BodyLength.ShouldBe(gzipped.Length);
        forwarded.Body.ShouldBe(plain);
    }

    [Theory]
    [InlineData("application/protobuf")]
    [InlineData("text/plain")]
    public async Task Otlp_WithAContentTypeLangfuseRefuses_Is400(string contentType)
    {
        using var response = await _host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(1), contentType));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await Message(response)).ShouldContain("Unsupported content type");
    }

    [Theory]
    [InlineData("application/x-protobuf", new byte[] { 0x0A, 0x05, 0x01 })]            // length runs past the end
    [InlineData("application/x-protobuf", new byte[] { 0x0A, 0x04, 0x12, 0x02, 0x12, 0x00 })] // a span without ids
    [InlineData("application/json", new byte[] { (byte)'{', (byte)'x' })]
    public async Task Otlp_Malformed_Is400_AndNothingIsStored(string contentType, byte[] body)
    {
        using var response = await _host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(body, contentType));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await Message(response)).ShouldStartWith("Invalid OTLP request");
        _host.Relay.Metrics.Requests.ShouldBe(0);
    }

    [Fact]
    public async Task Otlp_InvalidGzip_Is400()
    {
        using var response = await _host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content([1, 2, 3, 4], "application/x-protobuf", "gzip"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("/api/public/otel/v1/traces", RelayTestHost.ClientPublicKey, "sk-wrong")]
    [InlineData("/api/public/otel/v1/traces", "pk-wrong", RelayTestHost.ClientSecretKey)]
    [InlineData("/api/public/ingestion", RelayTestHost.ClientPublicKey, "sk-relay-clienX")]
    [InlineData("/api/public/ingestion", "pk-lf-test", "sk-lf-test")] // the upstream's keys are not the client keys here
    public async Task WrongKeys_Are401_LangfuseShaped(string path, string publicKey, string secretKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = path.Contains("otel", StringComparison.Ordinal)
                ? Requests.Content(Requests.OtlpProtobuf(1), "application/x-protobuf")
                : Requests.Json(Requests.Batch(Requests.Score("e1"))),
        };
        request.Headers.Authorization = RelayTestHost.Basic(publicKey, secretKey);

        using var response = await _host.Client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await Message(response)).ShouldContain("Invalid credentials");
        _host.Relay.Metrics.Requests.ShouldBe(0);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer abc")]
    [InlineData("Basic !!!not-base64")]
    [InlineData("Basic bm9jb2xvbg==")] // "nocolon"
    public async Task MissingOrBrokenAuthorization_Is401(string? header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/public/ingestion") { Content = Requests.Json(Requests.Batch(Requests.Score("e1"))) };
        request.Headers.Authorization = null;
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", header);
        }

        using var client = new HttpClient { BaseAddress = _host.Relay.BaseUrl };
        using var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("{\"batch\": [")]
    [InlineData("not json")]
    [InlineData("{\"events\": []}")]
    [InlineData("[1, 2]")]
    public async Task Ingestion_MalformedOrNotABatch_Is400_LangfuseShaped(string body)
    {
        using var response = await _host.Client.PostAsync("/api/public/ingestion", Requests.Json(body));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("message").GetString().ShouldBe("Invalid request data");
        json.RootElement.GetProperty("error").GetString().ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Ingestion_FiveMegabyteBody_Is413()
    {
        var padding = new string('x', 5 * 1024 * 1024);
        var body = Requests.Batch(Requests.Score("e1").Replace("\"name\":\"quality\"", $"\"name\":\"quality\",\"comment\":\"{padding}\"", StringComparison.Ordinal));

        using var response = await _host.Client.PostAsync("/api/public/ingestion", Requests.Json(body));

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).ShouldBe("Body exceeded 4.5mb limit");
    }

    [Fact]
    public async Task Ingestion_FiveMegabyteChunkedBody_Is413()
    {
        var body = Encoding.UTF8.GetBytes(Requests.Batch(Requests.Score("e1")).Replace("]", "," + string.Join(",", Enumerable.Repeat(Requests.Score("pad"), 30_000)) + "]", StringComparison.Ordinal));
        body.Length.ShouldBeGreaterThan(4_718_592);
        var content = new StreamContent(new MemoryStream(body)); // no Content-Length: sent chunked
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await _host.Client.PostAsync("/api/public/ingestion", content);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Ingestion_InvalidEvents_AreReportedPerEventIn207_AndNeverForwarded()
    {
        var badTimestamp = Requests.Score("bad-ts", timestamp: "yesterday");
        var noBodyId = """{"id":"bad-span","timestamp":"2026-01-02T03:04:05Z","type":"span-create","body":{"traceId":"t1","name":"x"}}""";
        var badScore = """{"id":"bad-score","timestamp":"2026-01-02T03:04:05Z","type":"score-create","body":{"id":"s","name":"q","value":"high","dataType":"NUMERIC","traceId":"t1"}}""";
        var unknownType = """{"id":"bad-type","timestamp":"2026-01-02T03:04:05Z","type":"nonsense","body":{}}""";

        using var response = await _host.Client.PostAsync("/api/public/ingestion", Requests.Json(
            Requests.Batch(Requests.Score("good-1"), badTimestamp, noBodyId, Requests.TraceCreate("good-2"), badScore, unknownType)));

        ((int)response.StatusCode).ShouldBe(207);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("successes").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ShouldBe(["good-1", "good-2"]);
        var errors = json.RootElement.GetProperty("errors").EnumerateArray().ToList();
        errors.Select(e => e.GetProperty("id").GetString()).ShouldBe(["bad-ts", "bad-span", "bad-score", "bad-type"]);
        errors.ShouldAllBe(e => e.GetProperty("status").GetInt32() == 400 && e.GetProperty("message").GetString() == "Invalid request data");
        errors[1].GetProperty("error").GetString()!.ShouldContain("body.id");

        await _host.Upstream.WaitForEventsAsync(2);
        await WaitAsync(() => _host.Relay.Queue.Stats.Items == 0); // all stored is sent: nothing more can arrive (no sleep)
        _host.Upstream.IngestionEvents.Select(e => e.Id).ShouldBe(["good-1", "good-2"]);
        _host.Upstream.IngestionEvents[0].Timestamp.ShouldBe("2026-01-02T03:04:05.678Z");
        _host.Upstream.Requests.Count(r => r.Path == FakeLangfuseServer.IngestionPath).ShouldBe(1);
        _host.Upstream.Requests.Single(r => r.Path == FakeLangfuseServer.IngestionPath).BodyText.ShouldContain("\"metadata\":{\"sdk_name\":\"test\"}");
    }

    [Fact]
    public async Task Ingestion_AllValid_IsForwardedByteIdentical()
    {
        var body = Requests.Batch(Requests.Score("a"), Requests.Score("b"));

        using var response = await _host.Client.PostAsync("/api/public/ingestion", Requests.Json(body));

        ((int)response.StatusCode).ShouldBe(207, await response.Content.ReadAsStringAsync());
        await _host.Upstream.WaitForEventsAsync(2);
        _host.Upstream.Requests.Single(r => r.Path == FakeLangfuseServer.IngestionPath).BodyText.ShouldBe(body);
    }

    [Fact]
    public async Task Health_AnswersOk_WithoutCredentials()
    {
        using var client = new HttpClient { BaseAddress = _host.Relay.BaseUrl };

        using var response = await client.GetAsync("/api/public/health");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("status").GetString().ShouldBe("OK");
    }

    [Fact]
    public async Task Status_ReportsAcceptedForwardedBacklogRejectionsAndUpstream()
    {
        using (await _host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(1, 4), "application/x-protobuf")))
        {
        }

        await _host.Upstream.WaitForSpansAsync(4);
        await WaitAsync(() => _host.Relay.ForwarderMetrics.Snapshot().Exported == 4);

        using var json = JsonDocument.Parse(await _host.Client.GetStringAsync("/relay/status"));
        var root = json.RootElement;
        root.GetProperty("accepted").GetProperty("items").GetInt64().ShouldBe(4);
        root.GetProperty("accepted").GetProperty("persistedBytes").GetInt64().ShouldBeGreaterThan(0);
        root.GetProperty("forwarded").GetProperty("items").GetInt64().ShouldBe(4);
        root.GetProperty("backlog").GetProperty("items").GetInt64().ShouldBe(0);
        root.GetProperty("backlog").GetProperty("oldestAgeSeconds").GetDouble().ShouldBe(0);
        root.GetProperty("rejections").GetProperty("unauthorized").GetInt64().ShouldBe(0);
        root.GetProperty("dropped").GetProperty("expired").GetInt64().ShouldBe(0);
        root.GetProperty("upstream").GetProperty("state").GetString().ShouldBe("ok");
        json.RootElement.ToString().ShouldNotContain(_host.Upstream.SecretKey);
    }

    [Fact]
    public async Task ConcurrentRequests_ShareGroupCommits_AndAllArrive()
    {
        const int requests = 64;

        var responses = await Task.WhenAll(Enumerable.Range(0, requests).Select(async i =>
        {
            using var response = await _host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(100 + i), "application/x-protobuf"));
            return response.StatusCode;
        }));

        responses.ShouldAllBe(s => s == HttpStatusCode.OK);
        _host.Relay.Metrics.CommittedRecords.ShouldBe(requests);
        _host.Relay.Metrics.Commits.ShouldBeLessThanOrEqualTo(requests);
        await _host.Upstream.WaitForSpansAsync(requests);
        _host.Upstream.Spans.Select(s => s.SpanId).Distinct().Count().ShouldBe(requests);
    }

    internal static async Task WaitAsync(Func<bool> condition, int? seconds = null)
    {
        // A hang guard only (see LoadedMachine): a cold relay's first forwarded request took 12 s at load 30.
        var deadline = DateTime.UtcNow + (seconds is { } s ? TimeSpan.FromSeconds(s) : LoadedMachine.HangGuard);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not met in time");
            }

            await Task.Delay(20);
        }
    }

    private static async Task<string> Message(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("message").GetString()!;
    }
}
