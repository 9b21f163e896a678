using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Langfuse.Agents.Testing;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;
using Langfuse.Agents.Testing.Otlp.Common.V1;
using Langfuse.Agents.Testing.Otlp.Trace.V1;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>
/// Issue 9's ingress findings, through real HTTP: the relay accepts only what its forwarder can send, validates as the
/// forwarder reads, limits bodies by what they inflate to, keeps the bytes as sent and bounds what Langfuse bounds.
/// </summary>
public sealed class IngressHardeningTests : IAsyncLifetime
{
    private RelayTestHost _host = null!;

    public async Task InitializeAsync() => _host = await RelayTestHost.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("x application/x-protobuf")]
    [InlineData("application/x-protobuf, application/x-protobuf")]
    [InlineData("application/x-protobufx")]
    [InlineData("application/json; charset=latin1")]
    public async Task Otlp_ContentTypeThatMerelyContainsAnOtlpType_Is415_AndNothingIsStored(string contentType)
    {
        using var response = await PostOtlpAsync(Requests.OtlpProtobuf(1), contentType);

        ((int)response.StatusCode).ShouldBe(415, await response.Content.ReadAsStringAsync());
        _host.Relay.Metrics.Requests.ShouldBe(0);
    }

    [Fact]
    public async Task Otlp_ContentTypeHeaderTwice_Is415()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/public/otel/v1/traces") { Content = new ByteArrayContent(Requests.OtlpProtobuf(1)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", ["application/x-protobuf", "application/x-protobuf"]).ShouldBeTrue();

        using var response = await _host.Client.SendAsync(request);

        ((int)response.StatusCode).ShouldBe(415);
        _host.Relay.Metrics.Requests.ShouldBe(0);
    }

    /// <summary>Finding 1 end to end: an odd content type once blocked every later request behind it for good.</summary>
    [Fact]
    public async Task Otlp_AfterAnOddContentType_LaterRequestsAreStillForwarded()
    {
        using (var odd = await PostOtlpAsync(Requests.OtlpProtobuf(1), "x application/x-protobuf"))
        {
            odd.IsSuccessStatusCode.ShouldBeFalse();
        }

        for (var i = 0; i < 3; i++)
        {
            using var response = await PostOtlpAsync(Requests.OtlpProtobuf(10 + i), "application/x-protobuf");
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await _host.Upstream.WaitForSpansAsync(3);
        _host.Upstream.Spans.Select(s => s.SpanId).Order().ShouldBe([Requests.SpanId(10), Requests.SpanId(11), Requests.SpanId(12)]);
    }

    [Theory]
    [InlineData("Application/X-Protobuf; proto=opentelemetry", "application/x-protobuf", false)]
    [InlineData("application/json; charset=utf-8", "application/json", true)]
    [InlineData("APPLICATION/JSON", "application/json", true)]
    public async Task Otlp_ParsedMediaType_IsStoredAndForwardedNormalised(string sent, string forwarded, bool json)
    {
        var body = json ? Encoding.UTF8.GetBytes(Requests.OtlpJson(3)) : Requests.OtlpProtobuf(3);

        using var response = await PostOtlpAsync(body, sent);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        await _host.Upstream.WaitForSpansAsync(1);
        var request = _host.Upstream.Requests.Single(r => r.Path == FakeLangfuseServer.OtlpPath);
        request.ContentType.ShouldBe(forwarded);
        request.Body.ShouldBe(body);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip, gzip")]
    public async Task Otlp_UnsupportedContentEncoding_Is400(string encoding)
    {
        using var content = Requests.Content(Requests.Gzip(Requests.OtlpProtobuf(1)), "application/x-protobuf");
        content.Headers.TryAddWithoutValidation("Content-Encoding", encoding);

        using var response = await _host.Client.PostAsync("/api/public/otel/v1/traces", content);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        _host.Relay.Metrics.Requests.ShouldBe(0);
    }

    /// <summary>Finding 3: a key given twice is refused per event (the forwarder could not settle it), the others are kept.</summary>
    [Fact]
    public async Task Ingestion_EventWithADuplicateKey_Is400ForThatEventAlone()
    {
        var idTwice = """{"id":"dup-id","id":"dup-id-2","timestamp":"2026-01-02T03:04:05Z","type":"score-create","body":{"id":"s1","name":"q","value":1,"traceId":"t1"}}""";
        var nestedTwice = """{"id":"dup-name","timestamp":"2026-01-02T03:04:05Z","type":"score-create","body":{"id":"s2","name":"q","name":"r","value":1,"traceId":"t1"}}""";

        using var response = await _host.Client.PostAsync("/api/public/ingestion", Requests.Json(Requests.Batch(Requests.Score("good"), idTwice, nestedTwice)));

        ((int)response.StatusCode).ShouldBe(207);
        var text = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(text);
        json.RootElement.GetProperty("successes").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ShouldBe(["good"], text);
        var errors = json.RootElement.GetProperty("errors").EnumerateArray().ToList();
        errors.Count.ShouldBe(2, text);
        errors.ShouldAllBe(e => e.GetProperty("status").GetInt32() == 400);
        errors[0].GetProperty("error").GetString()!.ShouldContain("id: given twice");
        errors[1].GetProperty("error").GetString()!.ShouldContain("body.name: given twice");

        await _host.Upstream.WaitForEventsAsync(1);
        _host.Upstream.IngestionEvents.Select(e => e.Id).ShouldBe(["good"]);
    }

    [Theory]
    [InlineData("""{"batch":[],"batch":[]}""")]
    [InlineData("""{"batch":[],"metadata":{"a":1,"a":2}}""")]
    [InlineData("""{"batch":[]} {"batch":[]}""")]
    public async Task Ingestion_EnvelopeWithADuplicateKeyOrTrailingContent_Is400(string body)
    {
        using var response = await _host.Client.PostAsync("/api/public/ingestion", Requests.Json(body));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("message").GetString().ShouldBe("Invalid request data");
    }

    /// <summary>Finding 5: the valid events beside an invalid one are stored as their own bytes, never re-encoded.</summary>
    [Fact]
    public async Task Ingestion_ValidEventsBesideAnInvalidOne_AreForwardedAsTheBytesSent()
    {
        var html = """{"id":"html","timestamp":"2026-01-02T03:04:05.678Z","type":"score-create","body":{"id":"s-html","name":"<b>a&b</b> \u00e9 é 'x'","value":1,"traceId":"t1","comment":"1 < 2 > 0"}}""";
        var invalid = Requests.Score("bad", timestamp: "yesterday");

        using var response = await _host.Client.PostAsync("/api/public/ingestion", Requests.Json(Requests.Batch(html, invalid, Requests.Score("plain"))));

        ((int)response.StatusCode).ShouldBe(207);
        await _host.Upstream.WaitForEventsAsync(2);
        var forwarded = _host.Upstream.Requests.Single(r => r.Path == FakeLangfuseServer.IngestionPath).BodyText;
        forwarded.ShouldBe("""{"batch":[""" + html + "," + Requests.Score("plain") + """],"metadata":{"sdk_name":"test"}}""");
    }

    /// <summary>Finding 5: a small gzip body that inflates past Langfuse's 4.5 MB is refused, not acknowledged.</summary>
    [Fact]
    public async Task Ingestion_GzipBodyInflatingPastTheLimit_Is413_AndNothingIsStored()
    {
        var events = Enumerable.Range(0, 30_000).Select(i => Requests.Score($"e{i}")).ToArray();
        var plain = Encoding.UTF8.GetBytes(Requests.Batch(events));
        plain.Length.ShouldBeGreaterThan(4_718_592);
        var gzipped = Requests.Gzip(plain);
        gzipped.Length.ShouldBeLessThan(1_000_000);

        using var response = await _host.Client.PostAsync("/api/public/ingestion", Requests.Content(gzipped, "application/json", "gzip"));

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).ShouldBe("Body exceeded 4.5mb limit");
        _host.Relay.Metrics.Requests.ShouldBe(0);
    }

    [Fact]
    public async Task Ingestion_GzipBodyWithinTheLimit_IsStoredInflated_AndForwardedByteIdentical()
    {
        var plain = Requests.Batch(Requests.Score("z1"), Requests.Score("z2"));

        using var response = await _host.Client.PostAsync("/api/public/ingestion", Requests.Content(Requests.Gzip(Encoding.UTF8.GetBytes(plain)), "application/json", "gzip"));

        ((int)response.StatusCode).ShouldBe(207);
        await _host.Upstream.WaitForEventsAsync(2);
        _host.Upstream.Requests.Single(r => r.Path == FakeLangfuseServer.IngestionPath).BodyText.ShouldBe(plain);
    }

    [Fact]
    public async Task Otlp_GzipBodyInflatingPastTheOtlpLimit_Is413()
    {
        var span = Span(1);
        span.Attributes.Add(new KeyValue { Key = "big", Value = new AnyValue { StringValue = new string('a', 17 * 1024 * 1024) } });
        var gzipped = Requests.Gzip(Request(span).ToByteArray());

        using var response = await _host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(gzipped, "application/x-protobuf", "gzip"));

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        _host.Relay.Metrics.Requests.ShouldBe(0);
    }

    /// <summary>Finding 8: attribute values nested past protobuf's recursion limit were accepted, then refused upstream.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Otlp_AttributeValuesNestedTooDeep_Are400(bool kvlist)
    {
        var span = Span(1);
        span.Attributes.Add(new KeyValue { Key = "deep", Value = Nested(kvlist ? 40 : 60, kvlist) });

        using var response = await PostOtlpAsync(Request(span).ToByteArray(), "application/x-protobuf");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain("nest deeper than 100");
        _host.Relay.Metrics.Requests.ShouldBe(0);
    }

    [Fact]
    public async Task Otlp_AttributeValuesNestedWithinTheLimit_AreAcceptedAndDecodedUpstream()
    {
        var span = Span(1);
        span.Attributes.Add(new KeyValue { Key = "deep", Value = Nested(30, kvlist: true) });

        using var response = await PostOtlpAsync(Request(span).ToByteArray(), "application/x-protobuf");

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        await _host.Upstream.WaitForSpansAsync(1);
        _host.Upstream.Violations.ShouldBeEmpty();
    }

    [Fact]
    public async Task Otlp_MoreAttributesThanTheBound_Is400()
    {
        var span = Span(1);
        for (var i = 0; i < 1025; i++)
        {
            span.Attributes.Add(new KeyValue { Key = $"k{i}", Value = new AnyValue { IntValue = i } });
        }

        using var response = await PostOtlpAsync(Request(span).ToByteArray(), "application/x-protobuf");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain("more than 1024 span attributes");
    }

    [Fact]
    public async Task OtlpJson_MoreAttributesThanTheBound_Is400()
    {
        var attributes = string.Join(",", Enumerable.Range(0, 1025).Select(i => $$$"""{"key":"k{{{i}}}","value":{"intValue":"{{{i}}}"}}"""));
        var json = Requests.OtlpJson(1).Replace("""{"key":"langfuse.observation.type","value":{"stringValue":"span"}}""", attributes, StringComparison.Ordinal);

        using var response = await PostOtlpAsync(Encoding.UTF8.GetBytes(json), "application/json");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain("more than 1024");
    }

    [Fact]
    public async Task OtlpJson_DuplicateKey_Is400()
    {
        var json = Requests.OtlpJson(1).Replace("\"name\":\"json-1\"", "\"name\":\"json-1\",\"name\":\"again\"", StringComparison.Ordinal);

        using var response = await PostOtlpAsync(Encoding.UTF8.GetBytes(json), "application/json");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    /// <summary>Must-hold 9: paths only for callers with the client keys.</summary>
    [Fact]
    public async Task Status_WithoutCredentials_ShowsNoPaths_WithCredentials_Does()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.Relay.BaseUrl };
        var open = await anonymous.GetStringAsync("/relay/status");
        var full = await _host.Client.GetStringAsync("/relay/status");

        open.ShouldNotContain(_host.Directory);
        open.ShouldNotContain("bufferDirectory");
        full.ShouldContain("bufferDirectory");
        using var json = JsonDocument.Parse(full);
        json.RootElement.GetProperty("bufferDirectory").GetString().ShouldBe(_host.Directory);
    }

    private Task<HttpResponseMessage> PostOtlpAsync(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType).ShouldBeTrue();
        return _host.Client.PostAsync("/api/public/otel/v1/traces", content);
    }

    private static Span Span(int n) => new()
    {
        TraceId = ByteString.CopyFrom(Convert.FromHexString(Requests.TraceId(n))),
        SpanId = ByteString.CopyFrom(Convert.FromHexString(Requests.SpanId(n))),
        Name = $"span-{n}",
        StartTimeUnixNano = 1_700_000_000_000_000_000UL,
        EndTimeUnixNano = 1_700_000_000_100_000_000UL,
    };

    private static ExportTraceServiceRequest Request(Span span)
    {
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(new ResourceSpans { ScopeSpans = { new ScopeSpans { Spans = { span } } } });
        return request;
    }

    /// <summary>An attribute value nested <paramref name="levels"/> times: kvlist (3 messages a level) or array (2 a level).</summary>
    private static AnyValue Nested(int levels, bool kvlist)
    {
        var value = new AnyValue { StringValue = "leaf" };
        for (var i = 0; i < levels; i++)
        {
            value = kvlist
                ? new AnyValue { KvlistValue = new KeyValueList { Values = { new KeyValue { Key = "k", Value = value } } } }
                : new AnyValue { ArrayValue = new ArrayValue { Values = { value } } };
        }

        return value;
    }
}
