using System.Text;
using CsCheck;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Export;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Fuzzing;

/// <summary>
/// Must-hold 4 for the delivery parsers that meet untrusted bytes: the 207 reader (Langfuse's answer, or whatever a
/// proxy sends instead) and the per-record settlement and splitting code (stored request bodies: the relay's clients
/// wrote them). Bounded property-based runs (CsCheck): random bytes and mutations of valid inputs never throw, never
/// allocate beyond a bound proportional to the input, and splitting never loses or invents an item.
/// </summary>
public sealed class DeliveryParserFuzzTests
{
    private const int Iterations = 1_500;

    private static readonly Gen<byte[]> Valid207 = Gen.Int[0, 40].SelectMany(n => Gen.Int[0, 3].Array[n]).Select(statuses =>
        Encoding.UTF8.GetBytes("{\"successes\":[" + string.Join(",", statuses.Select((s, i) => s == 0 ? $"{{\"id\":\"e{i}\",\"status\":201}}" : null).Where(x => x is not null)) +
            "],\"errors\":[" + string.Join(",", statuses.Select((s, i) => s != 0 ? $"{{\"id\":\"e{i}\",\"status\":{(s == 1 ? 400 : 500)},\"message\":\"m\",\"error\":{(s == 3 ? "[{\"path\":[\"x\"]}]" : "\"text\"")}}}" : null).Where(x => x is not null)) + "]}"));

    private static readonly Gen<byte[]> Mutated207 = Valid207.SelectMany(Mutate);

    [Fact]
    public void MultiStatusReader_OnRandomOrMutatedBytes_NeverThrows_AndAllocatesInProportion()
    {
        Gen.OneOf(Gen.Byte.Array[0, 600], Mutated207, Valid207).Sample(bytes =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var response = IngestionResponse.ReadAsync(new MemoryStream(bytes), bytes.Length, CancellationToken.None).GetAwaiter().GetResult();
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            allocated.ShouldBeLessThan(256 * 1024 + (64L * bytes.Length), "allocation is bounded by the body");
            if (response is not null)
            {
                foreach (var error in response.Errors!)
                {
                    _ = error.ErrorText;
                    _ = response.IsAccepted(error.Id ?? "x");
                }
            }
        }, iter: Iterations);
    }

    [Fact]
    public void MultiStatusReader_ABodyPastItsLimit_IsNeverReadPastIt()
    {
        Gen.Select(Valid207, Gen.Int[0, 100]).Sample((bytes, cut) =>
        {
            var limit = Math.Max(0, bytes.Length - 1 - cut);
            using var stream = new MemoryStream(bytes);
            IngestionResponse.ReadAsync(stream, limit, CancellationToken.None).GetAwaiter().GetResult().ShouldBeNull();
            stream.Position.ShouldBeLessThanOrEqualTo(limit + 1L + 16_384, "the reader stops at the limit (plus one read buffer)");
        }, iter: 300);
    }

    [Fact]
    public void BatchSettlement_OnRandomOrMutatedBodies_NeverThrows_AndSubsetsKeepEveryEventsBytesAndItems()
    {
        Gen.OneOf(Gen.Byte.Array[0, 600], ValidBatch.SelectMany(Mutate), ValidBatch).Select(Gen.Int[0, 50]).Sample((bytes, items) =>
        {
            var batch = IngestionBatch.TryRead(bytes, items);
            if (batch is null)
            {
                return;
            }

            IngestionBatch.Weight(batch.Events).ShouldBe(batch.Events.Count == 0 ? 0 : items, "the events' items add up to the record's");
            if (batch.Events.Count == 0)
            {
                return;
            }

            var half = batch.Events.Count / 2;
            var first = batch.Subset(batch.Events.Take(half).ToList());
            var second = batch.Subset(batch.Events.Skip(half).ToList());
            (IngestionBatch.Weight(first.Events) + IngestionBatch.Weight(second.Events)).ShouldBe(IngestionBatch.Weight(batch.Events));
            first.Events.Concat(second.Events).Select(e => Convert.ToBase64String(e.Bytes.Span)).ShouldBe(batch.Events.Select(e => Convert.ToBase64String(e.Bytes.Span)), "original bytes, in order");
            first.Events.Concat(second.Events).Select(e => e.Id).ShouldBe(batch.Events.Select(e => e.Id));
        }, iter: Iterations);
    }

    [Fact]
    public void OtlpSplitting_OnRandomOrMutatedBodies_NeverThrows_AndNeverLosesOrInventsASpan()
    {
        Gen.OneOf(Gen.Byte.Array[0, 400], ValidOtlp.SelectMany(Mutate), ValidOtlp).Sample(bytes =>
        {
            var spans = OtlpSplitter.CountSpans(bytes, json: false);
            if (OtlpSplitter.TrySplit(bytes, json: false) is not { } parts)
            {
                return;
            }

            if (spans < 0)
            {
                return; // not readable below its top level: the parts go as they are, and Langfuse judges them
            }

            var a = OtlpSplitter.CountSpans(parts.First, json: false);
            var b = OtlpSplitter.CountSpans(parts.Second, json: false);
            a.ShouldBeGreaterThanOrEqualTo(0); // a mutated resource may hold no span; a part of it then holds none
            b.ShouldBeGreaterThanOrEqualTo(0);
            (a + b).ShouldBe(spans, "a split never loses or invents a span");
        }, iter: Iterations);
    }

    [Fact]
    public void OtlpJsonSplitting_OnRandomOrMutatedBodies_NeverThrows_AndNeverLosesOrInventsASpan()
    {
        Gen.OneOf(Gen.Byte.Array[0, 400], ValidOtlpJson.SelectMany(Mutate), ValidOtlpJson).Sample(bytes =>
        {
            var spans = OtlpSplitter.CountSpans(bytes, json: true);
            if (OtlpSplitter.TrySplit(bytes, json: true) is not { } parts)
            {
                return;
            }

            if (spans < 0)
            {
                return;
            }

            var a = OtlpSplitter.CountSpans(parts.First, json: true);
            var b = OtlpSplitter.CountSpans(parts.Second, json: true);
            a.ShouldBeGreaterThanOrEqualTo(0);
            b.ShouldBeGreaterThanOrEqualTo(0);
            (a + b).ShouldBe(spans, "a split never loses or invents a span");
        }, iter: Iterations);
    }

    private static Gen<byte[]> ValidBatch => Gen.Int[0, 12].SelectMany(n => Gen.Int[0, 3].Array[n]).Select(kinds =>
        Encoding.UTF8.GetBytes("{\"batch\":[" + string.Join(",", kinds.Select((k, i) => k switch
        {
            0 => $"{{\"id\":\"e{i}\",\"type\":\"score-create\",\"body\":{{\"id\":\"s{i}\"}}}}",
            1 => $"{{\"id\":\"t{i}\",\"type\":\"trace-create\",\"body\":{{\"id\":\"x\",\"input\":\"a < b\"}}}}",
            2 => $"{{\"id\":\"d{i}\",\"id\":\"d{i}b\",\"type\":\"span-create\",\"type\":\"span-update\",\"body\":{{}}}}",
            _ => "[1,2]",
        })) + "],\"metadata\":{\"n\":1}}"));

    private static Gen<byte[]> ValidOtlp => Gen.Int[1, 3].SelectMany(resources => Gen.Int[1, 3].SelectMany(scopes => Gen.Int[1, 5].Select(spans =>
    {
        var request = new Langfuse.Agents.Testing.Otlp.Collector.Trace.V1.ExportTraceServiceRequest();
        for (var r = 0; r < resources; r++)
        {
            var resource = new Langfuse.Agents.Testing.Otlp.Trace.V1.ResourceSpans { Resource = new Langfuse.Agents.Testing.Otlp.Resource.V1.Resource() };
            for (var s = 0; s < scopes; s++)
            {
                var scope = new Langfuse.Agents.Testing.Otlp.Trace.V1.ScopeSpans { Scope = new Langfuse.Agents.Testing.Otlp.Common.V1.InstrumentationScope { Name = "s" } };
                for (var i = 0; i < spans; i++)
                {
                    scope.Spans.Add(new Langfuse.Agents.Testing.Otlp.Trace.V1.Span { Name = "x", TraceId = Google.Protobuf.ByteString.CopyFrom(new byte[16]), SpanId = Google.Protobuf.ByteString.CopyFrom(new byte[8]) });
                }

                resource.ScopeSpans.Add(scope);
            }

            request.ResourceSpans.Add(resource);
        }

        return Google.Protobuf.MessageExtensions.ToByteArray(request);
    })));

    private static Gen<byte[]> ValidOtlpJson => Gen.Int[1, 3].SelectMany(resources => Gen.Int[1, 3].SelectMany(scopes => Gen.Int[0, 4].Select(spans =>
        Encoding.UTF8.GetBytes("{\"resourceSpans\":[" + string.Join(",", Enumerable.Range(0, resources).Select(_ =>
            "{\"resource\":{\"attributes\":[]},\"scopeSpans\":[" + string.Join(",", Enumerable.Range(0, scopes).Select(_ =>
                "{\"scope\":{\"name\":\"s\"},\"spans\":[" + string.Join(",", Enumerable.Range(0, spans).Select(i => $"{{\"traceId\":\"t\",\"spanId\":\"s{i}\",\"name\":\"n\"}}")) + "]}")) + "]}")) + "]}"))));

    /// <summary>Flips, drops, duplicates or truncates bytes of a valid input.</summary>
    private static Gen<byte[]> Mutate(byte[] valid) =>
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, Math.Max(0, valid.Length - 1)], Gen.Byte).Select((kind, at, value) =>
        {
            if (valid.Length == 0)
            {
                return valid;
            }

            var bytes = valid.ToList();
            switch (kind)
            {
                case 0: bytes[at] = value; break;
                case 1: bytes.RemoveAt(at); break;
                case 2: bytes.InsertRange(at, bytes.Skip(at).Take(8).ToList()); break;
                default: bytes.RemoveRange(at, bytes.Count - at); break;
            }

            return bytes.ToArray();
        });
}
