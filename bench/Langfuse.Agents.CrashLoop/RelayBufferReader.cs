using System.IO.Compression;
using System.Text.Json;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;

namespace Langfuse.Agents.CrashLoop;

/// <summary>
/// Reads what a stopped relay's buffer directory still holds, as the crash loop's keys: spans as <c>traceId/spanId</c>
/// (lower-case hex) from OTLP protobuf (plain or gzip) and OTLP/JSON records, events by envelope id from batch records.
/// Segments are taken and never completed or released, so nothing is deleted.
/// </summary>
internal static class RelayBufferReader
{
    public static (IReadOnlySet<string> Spans, IReadOnlySet<string> Events) Read(string directory)
    {
        var spans = new HashSet<string>(StringComparer.Ordinal);
        var events = new HashSet<string>(StringComparer.Ordinal);
        using var queue = new DurableQueue(new DurableQueueOptions { Directory = directory });
        while (queue.TryTakeOldest(out var segment))
        {
            foreach (var record in segment!.Records)
            {
                var body = record.ContentEncoding?.Trim().Equals("gzip", StringComparison.OrdinalIgnoreCase) == true
                    ? Inflate(record.Payload.ToArray())
                    : record.Payload.ToArray();
                if (record.Kind == PayloadKind.IngestionBatch)
                {
                    using var batch = JsonDocument.Parse(body);
                    foreach (var e in batch.RootElement.GetProperty("batch").EnumerateArray())
                    {
                        events.Add(e.GetProperty("id").GetString()!);
                    }
                }
                else if (record.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
                {
                    using var otlp = JsonDocument.Parse(body);
                    foreach (var span in otlp.RootElement.GetProperty("resourceSpans").EnumerateArray()
                                 .SelectMany(static rs => rs.GetProperty("scopeSpans").EnumerateArray())
                                 .SelectMany(static ss => ss.GetProperty("spans").EnumerateArray()))
                    {
                        spans.Add(span.GetProperty("traceId").GetString()!.ToLowerInvariant() + "/" + span.GetProperty("spanId").GetString()!.ToLowerInvariant());
                    }
                }
                else
                {
                    foreach (var span in ExportTraceServiceRequest.Parser.ParseFrom(body).ResourceSpans
                                 .SelectMany(static rs => rs.ScopeSpans).SelectMany(static ss => ss.Spans))
                    {
                        spans.Add(Convert.ToHexStringLower(span.TraceId.Span) + "/" + Convert.ToHexStringLower(span.SpanId.Span));
                    }
                }
            }
        }

        return (spans, events);
    }

    private static byte[] Inflate(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
