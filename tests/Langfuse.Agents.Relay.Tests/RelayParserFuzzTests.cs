using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CsCheck;
using Google.Protobuf;
using Langfuse.Agents.Relay.Internal;
using Langfuse.Agents.Testing;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;
using Langfuse.Agents.Testing.Otlp.Common.V1;
using Langfuse.Agents.Testing.Otlp.Trace.V1;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>
/// Must-hold 4: property-based fuzzing of every relay parser that meets untrusted bytes (OTLP protobuf, OTLP/JSON,
/// batch JSON), bounded for CI (a few seconds each): random bytes and mutations of valid requests (bit flips,
/// truncations, insertions, duplicated slices) never throw, never allocate more than a small multiple of the input,
/// and what the relay would store reads back as valid. The longer SharpFuzz run is in bench/Langfuse.Agents.Fuzz.
/// </summary>
public sealed class RelayParserFuzzTests
{
    private const int Iterations = 3_000;

    private static readonly byte[][] ProtobufSeeds = [Requests.OtlpProtobuf(1, 3), RichProtobuf(), new ExportTraceServiceRequest().ToByteArray()];

    private static readonly byte[][] JsonSeeds =
    [
        Encoding.UTF8.GetBytes(Requests.OtlpJson(1)),
        Encoding.UTF8.GetBytes("""{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},"scopeSpans":[{"scope":{"name":"x","attributes":[]},"spans":[{"traceId":"0123456789abcdef0123456789abcdef","spanId":"0123456789abcdef","name":"n","attributes":[{"key":"k","value":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"},{"boolValue":true}]}}}]}}}],"events":[{"name":"e","attributes":[]}],"links":[],"status":{"code":2}}]}]}]}"""),
    ];

    private static readonly byte[][] BatchSeeds =
    [
        Encoding.UTF8.GetBytes(Requests.Batch(Requests.Score("a"), Requests.TraceCreate("b"), Requests.Score("c", "yesterday"))),
        Encoding.UTF8.GetBytes("""{"batch":[{"id":"g1","timestamp":"2026-01-02T03:04:05.678Z","type":"generation-create","body":{"id":"gen","traceId":"t","name":"llm","input":[{"role":"user","content":"hi <b>"}],"usage":{"input":3,"output":4},"metadata":{"a":{"b":[1,2,{"c":null}]}}}},{"id":"s1","timestamp":"2026-01-02T03:04:05Z","type":"span-update","body":{"id":"sp","traceId":"t","endTime":"2026-01-02T03:04:06Z"}}],"metadata":{"batch_size":2}}"""),
    ];

    [Fact]
    public void Protobuf_RandomBytes_NeverThrow_AndAllocateAlmostNothing() =>
        Gen.Byte.Array[0, 2048].Sample(bytes => CheckProtobuf(bytes), iter: Iterations);

    [Fact]
    public void Protobuf_MutatedRequests_NeverThrow_AndAllocateAlmostNothing() =>
        Mutated(ProtobufSeeds).Sample(bytes => CheckProtobuf(bytes), iter: Iterations);

    [Fact]
    public void Protobuf_ValidRequestsAreValid_WithTheirSpansCounted() =>
        Gen.Int[1, 40].Sample(count =>
        {
            OtlpRequestValidator.ValidateProtobuf(Requests.OtlpProtobuf(1, count), out var spans).ShouldBeNull();
            spans.ShouldBe(count);
        }, iter: 200);

    [Fact]
    public void Json_MutatedRequests_NeverThrow_AndAllocateInProportion() =>
        Mutated(JsonSeeds).Sample(bytes =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var error = OtlpRequestValidator.ValidateJson(bytes, out var spans);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            (error is null || error.Length > 0).ShouldBeTrue();
            spans.ShouldBeGreaterThanOrEqualTo(0);
            allocated.ShouldBeLessThan(64 * 1024 + (32L * bytes.Length));
        }, iter: Iterations);

    [Fact]
    public void Batch_MutatedBodies_NeverThrow_AndWhatWouldBeStoredReadsBackAllValid() =>
        Mutated(BatchSeeds).Sample(bytes =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var batch = IngestionBatchReader.Read(bytes, out var error);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            allocated.ShouldBeLessThan(64 * 1024 + (64L * bytes.Length));
            if (batch is null)
            {
                error.ShouldNotBeNullOrEmpty();
                return;
            }

            var valid = batch.Events.Where(e => e.Error is null).ToList();
            var stored = batch.Compose(valid);
            stored.Length.ShouldBeLessThanOrEqualTo(bytes.Length);
            var again = IngestionBatchReader.Read(stored, out var storedError);
            again.ShouldNotBeNull(storedError);
            again.Events.Select(e => (e.Id, e.Error)).ShouldBe(valid.Select(e => (e.Id, (string?)null)));
        }, iter: Iterations);

    [Fact]
    public void Batch_EventsWithAKeyGivenTwice_AreRefusedAlone() =>
        Gen.Select(Gen.Int[1, 20], Gen.Int[0, 19], Gen.OneOf("id", "type", "timestamp", "body", "name", "value")).Sample((count, pick, key) =>
        {
            var duplicated = pick % count;
            var events = Enumerable.Range(0, count).Select(i => Requests.Score($"e{i}")).ToArray();
            var target = events[duplicated];
            events[duplicated] = key is "name" or "value"
                ? target.Replace($"\"{key}\":", $"\"{key}\":1,\"{key}\":", StringComparison.Ordinal)
                : target.Replace($"\"{key}\":", $"\"{key}\":null,\"{key}\":", StringComparison.Ordinal);

            var batch = IngestionBatchReader.Read(Encoding.UTF8.GetBytes(Requests.Batch(events)), out var error);

            batch.ShouldNotBeNull(error);
            batch.Events.Count(e => e.Error is not null).ShouldBe(1);
            batch.Events[duplicated].Error!.ShouldContain("given twice");
        }, iter: 500);

    /// <summary>Through HTTP: whatever the body, the answer is a clear 4xx (or success), never a 500 or a dropped connection.</summary>
    [Fact]
    public async Task Endpoints_MutatedBodies_GetAClearAnswer()
    {
        await using var host = await RelayTestHost.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        var random = new Random(9);
        for (var i = 0; i < 150; i++)
        {
            var kind = i % 3;
            var salt = random.Next();
            var (path, seeds, contentType) = kind switch
            {
                0 => ("/api/public/otel/v1/traces", ProtobufSeeds, "application/x-protobuf"),
                1 => ("/api/public/otel/v1/traces", JsonSeeds, "application/json"),
                _ => ("/api/public/ingestion", BatchSeeds, "application/json"),
            };
            var body = Mutate(seeds[salt % seeds.Length], random);
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

            using var response = await host.Client.PostAsync(path, content);

            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            status.ShouldBeOneOf([200, 207, 400, 413], text);
            if (status is 400)
            {
                using var json = JsonDocument.Parse(text);
                (json.RootElement.TryGetProperty("message", out _) || json.RootElement.TryGetProperty("error", out _)).ShouldBeTrue(text);
            }
        }
    }

    private static void CheckProtobuf(byte[] bytes)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = OtlpRequestValidator.ValidateProtobuf(bytes, out var spans);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        (error is null || error.Length > 0).ShouldBeTrue();
        spans.ShouldBeGreaterThanOrEqualTo(0);
        allocated.ShouldBeLessThan(4096, "the protobuf walk allocates only its error message");
    }

    /// <summary>Valid seeds changed by one to eight edits: flip a byte, cut the end, insert bytes, repeat a slice.</summary>
    private static Gen<byte[]> Mutated(byte[][] seeds) =>
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int[0, int.MaxValue]).Select((index, seed) => Mutate(seeds[index], new Random(seed)));

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        var edits = random.Next(1, 9);
        for (var i = 0; i < edits && bytes.Count > 0; i++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2:
                    var insert = new byte[random.Next(1, 6)];
                    random.NextBytes(insert);
                    bytes.InsertRange(at, insert);
                    break;
                default:
                    var length = Math.Min(random.Next(1, 64), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>A request with every message type the validator walks: resource, scope, attributes of each kind, events, links, status.</summary>
    private static byte[] RichProtobuf()
    {
        var nested = new AnyValue
        {
            KvlistValue = new KeyValueList
            {
                Values =
                {
                    new KeyValue { Key = "a", Value = new AnyValue { ArrayValue = new ArrayValue { Values = { new AnyValue { IntValue = 1 }, new AnyValue { DoubleValue = 2.5 }, new AnyValue { BoolValue = true } } } } },
                    new KeyValue { Key = "b", Value = new AnyValue { BytesValue = ByteString.CopyFromUtf8("x") } },
                },
            },
        };
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(Convert.FromHexString(Requests.TraceId(5))),
            SpanId = ByteString.CopyFrom(Convert.FromHexString(Requests.SpanId(5))),
            ParentSpanId = ByteString.CopyFrom(Convert.FromHexString(Requests.SpanId(6))),
            Name = "rich",
            Attributes = { new KeyValue { Key = "n", Value = nested }, new KeyValue { Key = "s", Value = new AnyValue { StringValue = "v" } } },
            Events = { new Span.Types.Event { Name = "e", TimeUnixNano = 1, Attributes = { new KeyValue { Key = "k", Value = nested } } } },
            Links = { new Span.Types.Link { TraceId = ByteString.CopyFrom(new byte[16]), SpanId = ByteString.CopyFrom(new byte[8]), Attributes = { new KeyValue { Key = "l" } } } },
            Status = new Status { Code = Status.Types.StatusCode.Error, Message = "boom" },
        };
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(new ResourceSpans
        {
            Resource = new Langfuse.Agents.Testing.Otlp.Resource.V1.Resource { Attributes = { new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = "svc" } } } },
            ScopeSpans = { new ScopeSpans { Scope = new InstrumentationScope { Name = "scope", Attributes = { new KeyValue { Key = "k" } } }, Spans = { span } } },
        });
        return request.ToByteArray();
    }
}
