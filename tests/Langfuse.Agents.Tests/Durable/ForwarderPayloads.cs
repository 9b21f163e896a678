using System.Text;
using Google.Protobuf;
using Langfuse.Agents.Internal.Durable;
using Otlp = Langfuse.Agents.Testing.Otlp;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>Request bodies for forwarder tests, with span ids and envelope ids known from their numbers.</summary>
internal static class ForwarderPayloads
{
    /// <summary>Now (to the millisecond): records must be younger than the queue's retention on the system clock.</summary>
    public static readonly DateTimeOffset Created = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public static string SpanId(int n) => n.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    public static string TraceId(int n) => n.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An OTLP protobuf request with spans <paramref name="first"/>..first+count-1, one trace, one resource and scope.</summary>
    public static byte[] Otlp(int first, int count = 1, int attributeBytes = 0)
    {
        var scope = new Otlp.Trace.V1.ScopeSpans { Scope = new Otlp.Common.V1.InstrumentationScope { Name = "langfuse-sdk", Version = "forwarder-tests" } };
        for (var i = first; i < first + count; i++)
        {
            var span = new Otlp.Trace.V1.Span
            {
                TraceId = ByteString.CopyFrom(Convert.FromHexString(TraceId(first + 1))),
                SpanId = ByteString.CopyFrom(Convert.FromHexString(SpanId(i + 1))),
                Name = "span-" + i,
                StartTimeUnixNano = 1_767_225_600_000_000_000UL,
                EndTimeUnixNano = 1_767_225_600_002_000_000UL,
            };
            if (attributeBytes > 0)
            {
                span.Attributes.Add(new Otlp.Common.V1.KeyValue
                {
                    Key = "langfuse.observation.input",
                    Value = new Otlp.Common.V1.AnyValue { StringValue = new string('x', attributeBytes) },
                });
            }

            scope.Spans.Add(span);
        }

        var resource = new Otlp.Trace.V1.ResourceSpans { Resource = new Otlp.Resource.V1.Resource() };
        resource.Resource.Attributes.Add(new Otlp.Common.V1.KeyValue { Key = "service.name", Value = new Otlp.Common.V1.AnyValue { StringValue = "forwarder-tests" } });
        resource.ScopeSpans.Add(scope);
        var request = new Otlp.Collector.Trace.V1.ExportTraceServiceRequest();
        request.ResourceSpans.Add(resource);
        return request.ToByteArray();
    }

    public static DurableRecord OtlpRecord(int first, int count = 1, string? contentType = "application/x-protobuf", string? encoding = null, int attributeBytes = 0) =>
        new(PayloadKind.OtlpTraces, count, Created, Otlp(first, count, attributeBytes), contentType, encoding);

    /// <summary>A score-create event with envelope id <c>e{n}</c> and body id <c>s{n}</c>.</summary>
    public static string Score(int n, string name = "quality") =>
        $$$"""{"id":"e{{{n}}}","type":"score-create","timestamp":"2026-01-01T00:00:00.000Z","body":{"id":"s{{{n}}}","name":"{{{name}}}","value":{{{n}}},"traceId":"{{{TraceId(n + 1)}}}"}}""";

    public static byte[] Batch(IEnumerable<string> events) =>
        Encoding.UTF8.GetBytes("{\"batch\":[" + string.Join(",", events) + "],\"metadata\":{\"sdk_name\":\"forwarder-tests\"}}");

    public static DurableRecord BatchRecord(IEnumerable<string> events)
    {
        var list = events.ToList();
        return new DurableRecord(PayloadKind.IngestionBatch, list.Count, Created, Batch(list));
    }

    public static DurableRecord Scores(int first, int count, string name = "quality") =>
        BatchRecord(Enumerable.Range(first, count).Select(n => Score(n, name)));
}
