using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Langfuse.Agents.Testing;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;
using Langfuse.Agents.Testing.Otlp.Common.V1;
using Langfuse.Agents.Testing.Otlp.Resource.V1;
using Langfuse.Agents.Testing.Otlp.Trace.V1;

namespace Langfuse.Agents.Relay.ProcessTests;

internal enum PayloadKind
{
    OtlpProtobuf,
    OtlpProtobufGzip,
    OtlpJson,
    Batch,
}

/// <summary>
/// One request as the official SDKs send it, with the ids it carries: spans as <c>traceId/spanId</c> (lowercase hex, as
/// <see cref="ReceivedSpan"/> has them) and batch events by envelope id.
/// </summary>
internal sealed record Payload(PayloadKind Kind, string Path, byte[] Body, string ContentType, string? ContentEncoding, IReadOnlyList<string> SpanIds, IReadOnlyList<string> EventIds)
{
    public HttpRequestMessage ToRequest()
    {
        var content = new ByteArrayContent(Body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType);
        if (ContentEncoding is not null)
        {
            content.Headers.ContentEncoding.Add(ContentEncoding);
        }

        return new HttpRequestMessage(HttpMethod.Post, Path.TrimStart('/')) { Content = content };
    }

    public static Payload Create(PayloadKind kind, int size) => kind switch
    {
        PayloadKind.OtlpProtobuf => OtlpProtobuf(size, gzip: false),
        PayloadKind.OtlpProtobufGzip => OtlpProtobuf(size, gzip: true),
        PayloadKind.OtlpJson => OtlpJson(size),
        _ => Batch(size),
    };

    /// <summary><paramref name="spans"/> spans of one new trace (a root and its children), OTLP protobuf.</summary>
    public static Payload OtlpProtobuf(int spans, bool gzip = false)
    {
        var traceId = RandomNumberGenerator.GetBytes(16);
        var rootId = RandomNumberGenerator.GetBytes(8);
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "langfuse-sdk", Version = "relay-process-tests" } };
        var ids = new List<string>(spans);
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
        for (var i = 0; i < spans; i++)
        {
            var spanId = i == 0 ? rootId : RandomNumberGenerator.GetBytes(8);
            var span = new Span
            {
                TraceId = ByteString.CopyFrom(traceId),
                SpanId = ByteString.CopyFrom(spanId),
                Name = i == 0 ? "agent-run" : $"step-{i}",
                Kind = Span.Types.SpanKind.Internal,
                StartTimeUnixNano = now,
                EndTimeUnixNano = now + 1_000_000,
            };
            if (i > 0)
            {
                span.ParentSpanId = ByteString.CopyFrom(rootId);
            }

            span.Attributes.Add(Attribute("langfuse.observation.type", i == 0 ? "agent" : "span"));
            span.Attributes.Add(Attribute("langfuse.observation.input", $"{{\"step\":{i}}}"));
            scope.Spans.Add(span);
            ids.Add(Convert.ToHexStringLower(traceId) + "/" + Convert.ToHexStringLower(spanId));
        }

        var resource = new ResourceSpans { Resource = new Resource() };
        resource.Resource.Attributes.Add(Attribute("service.name", "relay-process-tests"));
        resource.ScopeSpans.Add(scope);
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(resource);
        var body = request.ToByteArray();
        return new Payload(
            gzip ? PayloadKind.OtlpProtobufGzip : PayloadKind.OtlpProtobuf, FakeLangfuseServer.OtlpPath,
            gzip ? Gzip(body) : body, "application/x-protobuf", gzip ? "gzip" : null, ids, []);
    }

    /// <summary><paramref name="spans"/> spans of one new trace, OTLP JSON (ids in hex, as the JS SDK sends them).</summary>
    public static Payload OtlpJson(int spans)
    {
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var rootId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        var spanArray = new JsonArray();
        var ids = new List<string>(spans);
        for (var i = 0; i < spans; i++)
        {
            var spanId = i == 0 ? rootId : Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            var span = new JsonObject
            {
                ["traceId"] = traceId,
                ["spanId"] = spanId,
                ["name"] = i == 0 ? "agent-run" : $"step-{i}",
                ["kind"] = 1,
                ["startTimeUnixNano"] = now.ToString(CultureInfo.InvariantCulture),
                ["endTimeUnixNano"] = (now + 1_000_000).ToString(CultureInfo.InvariantCulture),
                ["attributes"] = new JsonArray(
                    new JsonObject { ["key"] = "langfuse.observation.type", ["value"] = new JsonObject { ["stringValue"] = i == 0 ? "agent" : "span" } }),
                ["status"] = new JsonObject { ["code"] = 0 },
            };
            if (i > 0)
            {
                span["parentSpanId"] = rootId;
            }

            spanArray.Add(span);
            ids.Add(traceId + "/" + spanId);
        }

        var body = new JsonObject
        {
            ["resourceSpans"] = new JsonArray(new JsonObject
            {
                ["resource"] = new JsonObject
                {
                    ["attributes"] = new JsonArray(new JsonObject { ["key"] = "service.name", ["value"] = new JsonObject { ["stringValue"] = "relay-process-tests" } }),
                },
                ["scopeSpans"] = new JsonArray(new JsonObject
                {
                    ["scope"] = new JsonObject { ["name"] = "langfuse-sdk", ["version"] = "relay-process-tests" },
                    ["spans"] = spanArray,
                }),
            }),
        };
        return new Payload(PayloadKind.OtlpJson, FakeLangfuseServer.OtlpPath, Encoding.UTF8.GetBytes(body.ToJsonString()), "application/json", null, ids, []);
    }

    /// <summary>A legacy batch of about <paramref name="events"/> events: trace-create, span-create and score-create per trace.</summary>
    public static Payload Batch(int events)
    {
        var batch = new JsonArray();
        var ids = new List<string>();
        while (ids.Count < events)
        {
            var traceId = Guid.NewGuid().ToString();
            var timestamp = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            foreach (var (type, body) in new (string, JsonObject)[]
                     {
                         ("trace-create", new JsonObject { ["id"] = traceId, ["timestamp"] = timestamp, ["name"] = "relay-batch" }),
                         ("span-create", new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["traceId"] = traceId, ["name"] = "step", ["startTime"] = timestamp }),
                         ("score-create", new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["traceId"] = traceId, ["name"] = "quality", ["value"] = 1 }),
                     })
            {
                var id = Guid.NewGuid().ToString();
                batch.Add(new JsonObject { ["id"] = id, ["type"] = type, ["timestamp"] = timestamp, ["body"] = body });
                ids.Add(id);
                if (ids.Count == events)
                {
                    break;
                }
            }
        }

        var payload = new JsonObject
        {
            ["batch"] = batch,
            ["metadata"] = new JsonObject { ["batch_size"] = batch.Count, ["sdk_name"] = "relay-process-tests", ["public_key"] = RelayConfig.ClientPublicKey },
        };
        return new Payload(PayloadKind.Batch, FakeLangfuseServer.IngestionPath, Encoding.UTF8.GetBytes(payload.ToJsonString()), "application/json", null, [], ids);
    }

    /// <summary>What the relay acknowledged of a request: every span on 200; on 207, the events listed as successes.</summary>
    public static async Task<Acknowledged> AcknowledgedAsync(Payload payload, HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        var status = (int)response.StatusCode;
        if (payload.Kind != PayloadKind.Batch)
        {
            return status == 200 ? new Acknowledged(payload.SpanIds, []) : Acknowledged.None;
        }

        if (status == 207)
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var successes = document.RootElement.GetProperty("successes").EnumerateArray()
                .Where(s => s.GetProperty("status").GetInt32() is >= 200 and < 300)
                .Select(s => s.GetProperty("id").GetString()!)
                .ToList();
            return new Acknowledged([], successes);
        }

        return status is 200 or 201 ? new Acknowledged([], payload.EventIds) : Acknowledged.None;
    }

    private static KeyValue Attribute(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static byte[] Gzip(byte[] body)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(body);
        }

        return output.ToArray();
    }
}

internal sealed record Acknowledged(IReadOnlyList<string> SpanIds, IReadOnlyList<string> EventIds)
{
    public static readonly Acknowledged None = new([], []);

    public bool Any => SpanIds.Count + EventIds.Count > 0;
}
