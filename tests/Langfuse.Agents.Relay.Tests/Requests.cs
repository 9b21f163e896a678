using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;
using Langfuse.Agents.Testing.Otlp.Trace.V1;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>Request bodies as the official SDKs send them.</summary>
internal static class Requests
{
    public static string TraceId(int n) => (n + 1).ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    public static string SpanId(int n) => (n + 1).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An OTLP protobuf request with <paramref name="count"/> spans numbered from <paramref name="first"/>.</summary>
    public static byte[] OtlpProtobuf(int first, int count = 1)
    {
        var scope = new ScopeSpans();
        for (var i = first; i < first + count; i++)
        {
            scope.Spans.Add(new Span
            {
                TraceId = ByteString.CopyFrom(Convert.FromHexString(TraceId(i))),
                SpanId = ByteString.CopyFrom(Convert.FromHexString(SpanId(i))),
                Name = $"span-{i}",
                StartTimeUnixNano = 1_700_000_000_000_000_000UL,
                EndTimeUnixNano = 1_700_000_000_100_000_000UL,
            });
        }

        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(new ResourceSpans { ScopeSpans = { scope } });
        return request.ToByteArray();
    }

    public static string OtlpJson(int n) => $$$"""
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"js"}}]},
          "scopeSpans":[{"scope":{"name":"langfuse-sdk"},"spans":[
            {"traceId":"{{{TraceId(n)}}}","spanId":"{{{SpanId(n)}}}","name":"json-{{{n}}}","kind":1,
             "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000",
             "attributes":[{"key":"langfuse.observation.type","value":{"stringValue":"span"}}]}]}]}]}
        """;

    public static string Score(string id, string timestamp = "2026-01-02T03:04:05.678Z") => $$$"""
        {"id":"{{{id}}}","timestamp":"{{{timestamp}}}","type":"score-create",
         "body":{"id":"score-{{{id}}}","name":"quality","value":0.9,"dataType":"NUMERIC","traceId":"{{{TraceId(1)}}}"}}
        """;

    public static string TraceCreate(string id) => $$$"""
        {"id":"{{{id}}}","timestamp":"2026-01-02T03:04:05.678Z","type":"trace-create","body":{"id":"{{{TraceId(7)}}}","name":"t"}}
        """;

    public static string Batch(params string[] events) => $$$"""{"batch":[{{{string.Join(",", events)}}}],"metadata":{"sdk_name":"test"}}""";

    public static ByteArrayContent Content(byte[] body, string contentType, string? encoding = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        return content;
    }

    public static ByteArrayContent Json(string json) => Content(Encoding.UTF8.GetBytes(json), "application/json");

    public static byte[] Gzip(byte[] body)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(body);
        }

        return output.ToArray();
    }
}
