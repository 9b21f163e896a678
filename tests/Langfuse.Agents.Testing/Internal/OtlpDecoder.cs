using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;
using Langfuse.Agents.Testing.Otlp.Common.V1;

namespace Langfuse.Agents.Testing.Internal;

/// <summary>Turns OTLP/HTTP bodies (protobuf or JSON) into <see cref="ReceivedSpan"/>s.</summary>
internal static class OtlpDecoder
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private static readonly HashSet<string> ObservationTypes =
        ["span", "generation", "event", "embedding", "agent", "tool", "chain", "retriever", "guardrail", "evaluator"];

    private static readonly HashSet<string> Int64Fields =
    [
        "startTimeUnixNano", "endTimeUnixNano", "timeUnixNano", "intValue",
        "start_time_unix_nano", "end_time_unix_nano", "time_unix_nano", "int_value",
    ];

    public static ExportTraceServiceRequest ParseProtobuf(byte[] body) => ExportTraceServiceRequest.Parser.ParseFrom(body);

    /// <summary>
    /// OTLP/JSON differs from protobuf's canonical JSON only in its ids (hex, not base64), so the ids are
    /// rewritten to base64 and the rest is left to <see cref="JsonParser"/> (which accepts int64 as string or
    /// number and enums as integers).
    /// </summary>
    /// <exception cref="FormatException">Not valid OTLP/JSON.</exception>
    public static ExportTraceServiceRequest ParseJson(byte[] body, List<string> violations, Dictionary<string, string>? verbatimIds = null)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new FormatException("Body is not valid JSON: " + ex.Message, ex);
        }

        if (root is not JsonObject rootObject)
        {
            throw new FormatException("OTLP/JSON body must be an object.");
        }

        QuoteLargeIntegers(rootObject);
        foreach (var resourceSpans in Children(rootObject, "resourceSpans", "resource_spans"))
        {
            foreach (var scopeSpans in Children(resourceSpans, "scopeSpans", "scope_spans"))
            {
                foreach (var span in Children(scopeSpans, "spans"))
                {
                    RewriteId(span, 16, violations, verbatimIds, "traceId", "trace_id");
                    RewriteId(span, 8, violations, verbatimIds, "spanId", "span_id");
                    RewriteId(span, 8, violations, verbatimIds, "parentSpanId", "parent_span_id");
                    foreach (var link in Children(span, "links"))
                    {
                        RewriteId(link, 16, violations, verbatimIds, "traceId", "trace_id");
                        RewriteId(link, 8, violations, verbatimIds, "spanId", "span_id");
                    }
                }
            }
        }

        try
        {
            return Parser.Parse<ExportTraceServiceRequest>(rootObject.ToJsonString());
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new FormatException("Body is not valid OTLP/JSON: " + ex.Message, ex);
        }
    }

    /// <summary>Converts a request; returns an error (and no spans) if any span lacks a valid trace or span id.</summary>
    public static string? ToSpans(ExportTraceServiceRequest request, string contentType, List<ReceivedSpan> spans, List<string> violations, Dictionary<string, string>? verbatimIds = null)
    {
        string Id(Google.Protobuf.ByteString id)
        {
            var hex = Convert.ToHexStringLower(id.Span);
            return verbatimIds is not null && verbatimIds.TryGetValue(hex, out var original) ? original : hex;
        }

        foreach (var resourceSpans in request.ResourceSpans)
        {
            var resource = ToDictionary(resourceSpans.Resource?.Attributes);
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                foreach (var span in scopeSpans.Spans)
                {
                    if (span.TraceId.Length != 16 || span.TraceId.Span.IndexOfAnyExcept((byte)0) < 0)
                    {
                        return $"Span '{span.Name}' has no valid traceId ({span.TraceId.Length} bytes).";
                    }

                    if (span.SpanId.Length != 8 || span.SpanId.Span.IndexOfAnyExcept((byte)0) < 0)
                    {
                        return $"Span '{span.Name}' has no valid spanId ({span.SpanId.Length} bytes).";
                    }

                    var received = new ReceivedSpan
                    {
                        TraceId = Id(span.TraceId),
                        SpanId = Id(span.SpanId),
                        ParentSpanId = span.ParentSpanId.IsEmpty ? null : Id(span.ParentSpanId),
                        TraceState = span.TraceState,
                        Name = span.Name,
                        Kind = (int)span.Kind,
                        StartTimeUnixNano = span.StartTimeUnixNano,
                        EndTimeUnixNano = span.EndTimeUnixNano,
                        Attributes = ToDictionary(span.Attributes),
                        StatusCode = (int)(span.Status?.Code ?? 0),
                        StatusMessage = span.Status?.Message ?? "",
                        Flags = span.Flags,
                        Events = span.Events.Select(e => new ReceivedSpanEvent(e.Name, e.TimeUnixNano, ToDictionary(e.Attributes))).ToArray(),
                        LinkCount = span.Links.Count,
                        ResourceAttributes = resource,
                        ScopeName = scopeSpans.Scope?.Name ?? "",
                        ScopeVersion = scopeSpans.Scope?.Version ?? "",
                        ContentType = contentType,
                    };
                    CheckLangfuseAttributes(received, violations);
                    spans.Add(received);
                }
            }
        }

        return null;
    }

    private static void CheckLangfuseAttributes(ReceivedSpan span, List<string> violations)
    {
        void Violation(string message) => violations.Add($"span '{span.Name}' ({span.SpanId}): {message}");

        if (span.Type is { } type && !ObservationTypes.Contains(type))
        {
            Violation($"langfuse.observation.type '{type}' is not a Langfuse observation type");
        }

        if (span.Attr("langfuse.observation.level") is { } level && !IngestionValidator.IsLevel(level))
        {
            Violation($"langfuse.observation.level '{level}' is not DEBUG, DEFAULT, WARNING or ERROR");
        }

        if (span.Attr("langfuse.observation.usage_details") is { } usage &&
            JsonMapError(usage, integers: true) is { } usageError)
        {
            Violation("langfuse.observation.usage_details " + usageError);
        }

        if (span.Attr("langfuse.observation.cost_details") is { } cost &&
            JsonMapError(cost, integers: false) is { } costError)
        {
            Violation("langfuse.observation.cost_details " + costError);
        }

        if (span.Attr("langfuse.observation.completion_start_time") is { } completionStart && !IngestionValidator.IsIsoDateTime(completionStart))
        {
            Violation("langfuse.observation.completion_start_time is not ISO 8601 with Z or an offset");
        }

        var hasPromptName = span.Attributes.ContainsKey("langfuse.observation.prompt.name");
        var hasPromptVersion = span.Attributes.ContainsKey("langfuse.observation.prompt.version");
        if (hasPromptName != hasPromptVersion)
        {
            Violation("langfuse.observation.prompt.name and .prompt.version must come together");
        }

        if (span.Attr("langfuse.environment") is { } environment && IngestionValidator.EnvironmentProblem(environment) is { } envError)
        {
            Violation("langfuse.environment " + envError);
        }
    }

    private static string? JsonMapError(string json, bool integers)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return IngestionValidator.NumberMapError(document.RootElement, integers);
        }
        catch (JsonException)
        {
            return "is not JSON";
        }
    }

    private static Dictionary<string, object?> ToDictionary(RepeatedField<KeyValue>? attributes)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (attributes is not null)
        {
            foreach (var attribute in attributes)
            {
                result.TryAdd(attribute.Key, ToObject(attribute.Value));
            }
        }

        return result;
    }

    private static object? ToObject(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
        AnyValue.ValueOneofCase.ArrayValue => value.ArrayValue.Values.Select(ToObject).ToArray(),
        AnyValue.ValueOneofCase.KvlistValue => ToDictionary(value.KvlistValue.Values),
        AnyValue.ValueOneofCase.BytesValue => value.BytesValue.ToByteArray(),
        _ => null,
    };

    /// <summary>
    /// OTLP/JSON allows 64-bit integers as JSON numbers, but <see cref="JsonParser"/> reads numbers through
    /// <see cref="double"/>, which loses precision above 2^53 (nanosecond timestamps). Quoting them keeps every digit.
    /// </summary>
    private static void QuoteLargeIntegers(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToArray())
                {
                    if (Int64Fields.Contains(name) && obj[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number)
                    {
                        obj[name] = value.ToJsonString();
                    }
                    else
                    {
                        QuoteLargeIntegers(obj[name]);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    QuoteLargeIntegers(item);
                }

                break;
        }
    }

    private static IEnumerable<JsonObject> Children(JsonObject parent, params string[] names)
    {
        foreach (var name in names)
        {
            if (parent[name] is JsonArray array)
            {
                foreach (var item in array)
                {
                    if (item is JsonObject child)
                    {
                        yield return child;
                    }
                }
            }
        }
    }

    private static void RewriteId(JsonObject owner, int length, List<string> violations, Dictionary<string, string>? verbatimIds, params string[] names)
    {
        foreach (var name in names)
        {
            if (owner[name] is not JsonValue value)
            {
                continue;
            }

            if (!value.TryGetValue<string>(out var hex))
            {
                throw new FormatException($"'{name}' must be a hex string.");
            }

            if (hex.Length == 0)
            {
                continue; // Empty id: left empty, reported as missing where it matters.
            }

            if (verbatimIds is not null && !hex.All(char.IsAsciiHexDigit))
            {
                // Langfuse keeps a non-hex string id as it is: stand in a digest of it, and map it back in ToSpans.
                var digest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(hex)).AsSpan(0, length).ToArray();
                verbatimIds[Convert.ToHexStringLower(digest)] = hex;
                owner[name] = Convert.ToBase64String(digest);
                continue;
            }

            if (hex.Length != length * 2 || !hex.All(char.IsAsciiHexDigit))
            {
                throw new FormatException($"'{name}' must be {length * 2} hex characters, got '{hex}'.");
            }

            if (hex.Any(char.IsAsciiLetterUpper))
            {
                violations.Add(string.Create(CultureInfo.InvariantCulture, $"OTLP/JSON '{name}' {hex} is not lowercase hex"));
            }

            owner[name] = Convert.ToBase64String(Convert.FromHexString(hex));
        }
    }
}
