using System.Globalization;
using System.Text.Json;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Turns batch events a v4 Langfuse no longer accepts (<c>trace-create</c>, <c>span-create</c>, <c>generation-create</c>,
/// <c>event-create</c>, <c>agent-create</c>, ..., and their <c>-update</c>s) into one OTLP/JSON request that gives the
/// same trace in Langfuse: Langfuse's OTLP processor keeps string ids verbatim (it only hex-encodes binary ones), so
/// trace and observation ids stay exactly as the old SDK sent them (scores that point at them still match); times,
/// names, parents, input/output, metadata, model, parameters, usage, cost, level, status message, version,
/// environment, prompt and the trace's attributes travel as the <c>langfuse.*</c> span attributes Langfuse reads.
/// Updates are merged into their create (later fields win, metadata merged by key), also across batches while the
/// create is remembered (the last <see cref="MaxRemembered"/> observations and traces). A trace that arrives with no
/// observation of its own becomes one zero-length span carrying the trace's attributes, so nothing acknowledged is lost.
/// </summary>
internal sealed class LegacyOtlpTranslator
{
    /// <summary>Observations and traces remembered for updates that come in a later batch than their create.</summary>
    public const int MaxRemembered = 10_000;

    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Fields> _observations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Fields> _traces = new(StringComparer.Ordinal);
    private readonly Queue<(bool Trace, string Id)> _order = new();

    /// <summary>True for the batch types a v4 Langfuse refuses with "Event type not accepted" and OTLP can carry.</summary>
    public static bool IsTranslatable(string? type) => type is not null && ObservationType(type) is not null || type == "trace-create";

    /// <summary>
    /// One OTLP/JSON <c>ExportTraceServiceRequest</c> for <paramref name="events"/> (each the raw bytes of one batch
    /// event), or null when none of them could be read.
    /// </summary>
    public byte[]? Translate(IReadOnlyList<ReadOnlyMemory<byte>> events)
    {
        var observations = new List<(string Id, string Type)>();
        var traces = new List<string>();
        lock (_gate)
        {
            foreach (var bytes in events)
            {
                try
                {
                    using var document = JsonDocument.Parse(bytes);
                    var envelope = document.RootElement;
                    var type = Last(envelope, "type") is { ValueKind: JsonValueKind.String } t ? t.GetString() : null;
                    if (Last(envelope, "body") is not { ValueKind: JsonValueKind.Object } body || Last(body, "id") is not { ValueKind: JsonValueKind.String } idElement)
                    {
                        continue;
                    }

                    var id = idElement.GetString()!;
                    var timestamp = Last(envelope, "timestamp") is { ValueKind: JsonValueKind.String } ts ? ts.GetString() : null;
                    if (type == "trace-create")
                    {
                        Merge(_traces, true, id, body, timestamp);
                        if (!traces.Contains(id))
                        {
                            traces.Add(id);
                        }
                    }
                    else if (type is not null && ObservationType(type) is { } observationType)
                    {
                        var fields = Merge(_observations, false, id, body, timestamp);
                        if (type.EndsWith("-create", StringComparison.Ordinal) || fields.Type is null)
                        {
                            fields.Type = observationType;
                        }

                        if (!observations.Exists(o => o.Id == id))
                        {
                            observations.Add((id, observationType));
                        }
                    }
                }
                catch (JsonException)
                {
                    // Unreadable: Langfuse could not have read it either; the others still go.
                }
            }

            if (observations.Count == 0 && traces.Count == 0)
            {
                return null;
            }

            return Write(observations, traces);
        }
    }

    private static string? ObservationType(string type)
    {
        var dash = type.LastIndexOf('-');
        if (dash <= 0 || type[(dash + 1)..] is not ("create" or "update"))
        {
            return null;
        }

        var kind = type[..dash];
        return kind is "span" or "generation" or "event" or "agent" or "tool" or "chain" or "retriever" or "evaluator" or "embedding" or "guardrail"
            ? kind
            : null;
    }

    /// <summary>The last occurrence of a property (JavaScript's JSON.parse keeps the last duplicate, so Langfuse would).</summary>
    private static JsonElement? Last(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        JsonElement? found = null;
        foreach (var property in element.EnumerateObject())
        {
            if (property.NameEquals(name))
            {
                found = property.Value;
            }
        }

        return found;
    }

    private Fields Merge(Dictionary<string, Fields> store, bool trace, string id, JsonElement body, string? timestamp)
    {
        if (!store.TryGetValue(id, out var fields))
        {
            fields = new Fields { Timestamp = timestamp };
            store[id] = fields;
            _order.Enqueue((trace, id));
            while (_order.Count > MaxRemembered * 2 && _order.TryDequeue(out var oldest))
            {
                (oldest.Trace ? _traces : _observations).Remove(oldest.Id);
            }
        }

        foreach (var property in body.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue; // an update's null leaves what the create said
            }

            if (property.NameEquals("metadata") && property.Value.ValueKind == JsonValueKind.Object && fields.Values.TryGetValue("metadata", out var earlier))
            {
                fields.Values["metadata"] = MergeObjects(earlier, property.Value.GetRawText());
                continue;
            }

            fields.Values[property.Name] = property.Value.GetRawText();
        }

        return fields;
    }

    private static string MergeObjects(string earlier, string later)
    {
        using var a = JsonDocument.Parse(earlier);
        using var b = JsonDocument.Parse(later);
        if (a.RootElement.ValueKind != JsonValueKind.Object)
        {
            return later;
        }

        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in a.RootElement.EnumerateObject())
        {
            merged[p.Name] = p.Value.GetRawText();
        }

        foreach (var p in b.RootElement.EnumerateObject())
        {
            merged[p.Name] = p.Value.GetRawText();
        }

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var (name, raw) in merged)
            {
                w.WritePropertyName(name);
                w.WriteRawValue(raw, skipInputValidation: true);
            }

            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private byte[] Write(List<(string Id, string Type)> observations, List<string> traces)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("resourceSpans");
            w.WriteStartObject();
            w.WriteStartObject("resource");
            w.WriteStartArray("attributes");
            StringAttribute(w, "service.name", "langfuse-relay");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("scopeSpans");
            w.WriteStartObject();
            w.WriteStartObject("scope");
            w.WriteString("name", "langfuse-sdk"); // Langfuse then reads only the langfuse.* attributes, as from its own SDKs
            w.WriteString("version", "legacy-batch");
            w.WriteEndObject();
            w.WriteStartArray("spans");
            var carried = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (id, _) in observations)
            {
                var fields = _observations[id];
                var traceId = Text(fields, "traceId") ?? id;
                carried.Add(traceId);
                _traces.TryGetValue(traceId, out var trace);
                WriteSpan(w, id, fields, traceId, trace);
            }

            foreach (var traceId in traces)
            {
                if (!carried.Contains(traceId))
                {
                    // A trace with no observation in this request: one zero-length span carries its attributes.
                    var trace = _traces[traceId];
                    var fields = new Fields { Timestamp = trace.Timestamp, Type = "span" };
                    fields.Values["name"] = trace.Values.TryGetValue("name", out var name) ? name : "\"trace\"";
                    if (trace.Values.TryGetValue("timestamp", out var time))
                    {
                        fields.Values["startTime"] = time;
                        fields.Values["endTime"] = time;
                    }

                    WriteSpan(w, traceId + "-trace", fields, traceId, trace);
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteSpan(Utf8JsonWriter w, string id, Fields fields, string traceId, Fields? trace)
    {
        var start = Time(Text(fields, "startTime") ?? fields.Timestamp);
        var end = Time(Text(fields, "endTime")) ?? start;
        var parent = Text(fields, "parentObservationId");
        var level = Text(fields, "level");
        var statusMessage = Text(fields, "statusMessage");
        w.WriteStartObject();
        w.WriteString("traceId", traceId);
        w.WriteString("spanId", id);
        if (parent is not null)
        {
            w.WriteString("parentSpanId", parent);
        }

        w.WriteString("name", Text(fields, "name") ?? string.Empty);
        w.WriteNumber("kind", 1);
        w.WriteString("startTimeUnixNano", Nanos(start));
        w.WriteString("endTimeUnixNano", Nanos(end));
        w.WriteStartArray("attributes");
        StringAttribute(w, "langfuse.observation.type", fields.Type ?? "span");
        Raw(w, fields, "input", "langfuse.observation.input");
        Raw(w, fields, "output", "langfuse.observation.output");
        Raw(w, fields, "metadata", "langfuse.observation.metadata");
        StringAttribute(w, "langfuse.observation.level", level);
        StringAttribute(w, "langfuse.observation.status_message", statusMessage);
        StringAttribute(w, "langfuse.version", Text(fields, "version"));
        StringAttribute(w, "langfuse.environment", Text(fields, "environment") ?? (trace is null ? null : Text(trace, "environment")));
        StringAttribute(w, "langfuse.observation.model.name", Text(fields, "model"));
        Raw(w, fields, "modelParameters", "langfuse.observation.model.parameters");
        StringAttribute(w, "langfuse.observation.usage_details", Usage(fields));
        Raw(w, fields, "costDetails", "langfuse.observation.cost_details");
        StringAttribute(w, "langfuse.observation.completion_start_time", Text(fields, "completionStartTime"));
        if (Text(fields, "promptName") is { } promptName && fields.Values.TryGetValue("promptVersion", out var promptVersion) &&
            long.TryParse(promptVersion, NumberStyles.Integer, CultureInfo.InvariantCulture, out var version))
        {
            StringAttribute(w, "langfuse.observation.prompt.name", promptName);
            IntAttribute(w, "langfuse.observation.prompt.version", version);
        }

        if (trace is not null)
        {
            StringAttribute(w, "langfuse.trace.name", Text(trace, "name"));
            StringAttribute(w, "langfuse.user.id", Text(trace, "userId"));
            StringAttribute(w, "langfuse.session.id", Text(trace, "sessionId"));
            StringAttribute(w, "langfuse.release", Text(trace, "release"));
            Raw(w, trace, "metadata", "langfuse.trace.metadata");
            if (trace.Values.TryGetValue("public", out var isPublic) && isPublic is "true" or "false")
            {
                w.WriteStartObject();
                w.WriteString("key", "langfuse.trace.public");
                w.WriteStartObject("value");
                w.WriteBoolean("boolValue", isPublic == "true");
                w.WriteEndObject();
                w.WriteEndObject();
            }

            if (trace.Values.TryGetValue("tags", out var tags))
            {
                WriteTags(w, tags);
            }

            if (parent is null)
            {
                // Legacy trace input/output come only from trace-create; over OTLP they ride on the root span.
                Raw(w, trace, "input", "langfuse.trace.input");
                Raw(w, trace, "output", "langfuse.trace.output");
            }
        }

        w.WriteEndArray();
        if (level == "ERROR")
        {
            w.WriteStartObject("status");
            w.WriteNumber("code", 2);
            if (statusMessage is not null)
            {
                w.WriteString("message", statusMessage);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static string? Usage(Fields fields)
    {
        // usageDetails (newer SDKs) wins; the older usage object's input/output/total are the same buckets.
        var raw = fields.Values.TryGetValue("usageDetails", out var details) ? details : fields.Values.TryGetValue("usage", out var usage) ? usage : null;
        if (raw is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(raw);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var p in document.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out var n) && n >= 0)
                {
                    w.WriteNumber(p.Name, n); // Langfuse keeps only non-negative integers (unit, costs are dropped)
                }
            }

            w.WriteEndObject();
        }

        var text = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        return text == "{}" ? null : text;
    }

    private static void WriteTags(Utf8JsonWriter w, string tags)
    {
        using var document = JsonDocument.Parse(tags);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        w.WriteStartObject();
        w.WriteString("key", "langfuse.trace.tags");
        w.WriteStartObject("value");
        w.WriteStartObject("arrayValue");
        w.WriteStartArray("values");
        foreach (var tag in document.RootElement.EnumerateArray())
        {
            if (tag.ValueKind == JsonValueKind.String)
            {
                w.WriteStartObject();
                w.WriteString("stringValue", tag.GetString());
                w.WriteEndObject();
            }
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static string? Text(Fields fields, string name)
    {
        if (!fields.Values.TryGetValue(name, out var raw))
        {
            return null;
        }

        using var document = JsonDocument.Parse(raw);
        return document.RootElement.ValueKind switch
        {
            JsonValueKind.String => document.RootElement.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => raw,
            _ => null,
        };
    }

    /// <summary>The raw JSON of a field as the attribute's string: Langfuse parses JSON strings, so a string stays a string and an object an object.</summary>
    private static void Raw(Utf8JsonWriter w, Fields fields, string name, string key)
    {
        if (fields.Values.TryGetValue(name, out var raw))
        {
            StringAttribute(w, key, raw);
        }
    }

    private static void StringAttribute(Utf8JsonWriter w, string key, string? value)
    {
        if (value is null)
        {
            return;
        }

        w.WriteStartObject();
        w.WriteString("key", key);
        w.WriteStartObject("value");
        w.WriteString("stringValue", value);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void IntAttribute(Utf8JsonWriter w, string key, long value)
    {
        w.WriteStartObject();
        w.WriteString("key", key);
        w.WriteStartObject("value");
        w.WriteString("intValue", value.ToString(CultureInfo.InvariantCulture));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static DateTimeOffset? Time(string? iso) =>
        iso is not null && DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    private static string Nanos(DateTimeOffset? time) =>
        time is { } t && t > Epoch ? ((t - Epoch).Ticks * 100L).ToString(CultureInfo.InvariantCulture) : "0";

    /// <summary>What is known of one observation or trace: its body's fields as raw JSON, merged over its events.</summary>
    private sealed class Fields
    {
        public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

        public string? Timestamp { get; init; }

        public string? Type { get; set; }
    }
}
