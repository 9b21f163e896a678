using System.Globalization;
using System.Text.Json;

namespace Langfuse.Agents.Testing.Internal;

/// <summary>
/// Langfuse v4's reading of OTLP spans, ported from <c>OtelIngestionProcessor.processToEvent</c> (one observation row
/// per span) and <c>adaptEventsToTraceFormat</c> (the trace synthesized from its rows). First match wins in every
/// lookup, as in the server.
/// </summary>
internal static class OtlpIngestion
{
    private static readonly HashSet<string> KnownTypes =
        ["SPAN", "GENERATION", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EVALUATOR", "EMBEDDING", "GUARDRAIL"];

    private static readonly string[] UserIdKeys =
        ["langfuse.user.id", "user.id", "langfuse.observation.metadata.langfuse_user_id", "langfuse.trace.metadata.langfuse_user_id"];

    private static readonly string[] SessionIdKeys =
    [
        "langfuse.session.id", "session.id", "gen_ai.conversation.id",
        "langfuse.observation.metadata.langfuse_session_id", "langfuse.trace.metadata.langfuse_session_id",
    ];

    private static readonly string[] ModelKeys =
        ["langfuse.observation.model.name", "gen_ai.response.model", "gen_ai.request.model", "llm.response.model", "llm.model_name", "model"];

    public static IngestedView Read(IEnumerable<ReceivedSpan> spans)
    {
        var warnings = new List<string>();
        var rows = new List<(IngestedObservation Row, ReceivedSpan Span)>();
        foreach (var span in spans)
        {
            rows.Add((ToRow(span, warnings), span));
        }

        var traces = rows.GroupBy(r => r.Row.TraceId).Select(SynthesizeTrace).ToList();
        return new IngestedView(traces, [.. rows.Select(r => r.Row)], warnings);
    }

    private static IngestedObservation ToRow(ReceivedSpan span, List<string> warnings)
    {
        var attributes = span.Attributes;
        var start = Millis(span.StartTime);
        var end = Millis(span.EndTime);
        Dictionary<string, long?>? provided = null;
        if (Text(attributes, "langfuse.observation.usage_details") is { } usageJson)
        {
            provided = ParseJson(usageJson) is { } usage ? UsageProcessing.Parse(usage) : null;
            if (provided is null)
            {
                warnings.Add($"{LangfuseIngestionModel.InvalidUsageWarning} for observation {span.SpanId}: {usageJson}");
            }
        }

        return new IngestedObservation
        {
            Id = span.SpanId,
            TraceId = span.TraceId,
            ParentObservationId = span.ParentSpanId,
            Type = ObservationType(attributes),
            Name = span.Name,
            StartTime = start,
            EndTime = end < start ? start : end,
            CompletionStartTime = Text(attributes, "langfuse.observation.completion_start_time") is { } completion
                && TryParseDate(completion, out var completionStart) ? Millis(completionStart) : null,
            Level = Text(attributes, "langfuse.observation.level") ?? (span.StatusCode == 2 ? "ERROR" : "DEFAULT"),
            StatusMessage = Text(attributes, "langfuse.observation.status_message") ?? (span.StatusMessage.Length > 0 ? span.StatusMessage : null),
            Input = Text(attributes, "langfuse.observation.input"),
            Output = Text(attributes, "langfuse.observation.output"),
            Metadata = Metadata(span),
            Model = First(attributes, ModelKeys),
            UsageDetails = UsageProcessing.Finalize(provided, span.SpanId, warnings),
            CostDetails = Costs(Text(attributes, "langfuse.observation.cost_details")),
            PromptName = Text(attributes, "langfuse.observation.prompt.name") ?? Text(attributes, "langfuse.prompt.name"),
            PromptVersion = Number(attributes, "langfuse.observation.prompt.version") ?? Number(attributes, "langfuse.prompt.version"),
            Version = Text(attributes, "langfuse.version") ?? Text(span.ResourceAttributes, "service.version"),
            Environment = Text(attributes, "langfuse.environment") ?? Text(span.ResourceAttributes, "langfuse.environment") ?? "default",
            TraceName = Text(attributes, "langfuse.trace.name"),
            UserId = First(attributes, UserIdKeys),
            SessionId = First(attributes, SessionIdKeys),
            TraceTags = Tags(attributes),
            Release = Text(attributes, "langfuse.release") ?? Text(span.ResourceAttributes, "langfuse.release"),
            ServiceName = Text(span.ResourceAttributes, "service.name"),
        };
    }

    /// <summary>
    /// The v4 trace view: the start is the earliest observation's; name, release, version, user, session and
    /// environment come from the root (no parent), else from the earliest; tags from the last row that has any; input
    /// and output from the root (<c>langfuse.trace.input</c>, else its own input).
    /// </summary>
    private static IngestedTrace SynthesizeTrace(IGrouping<string, (IngestedObservation Row, ReceivedSpan Span)> group)
    {
        var earliest = group.MinBy(r => r.Row.StartTime);
        var root = group.FirstOrDefault(r => r.Row.ParentObservationId is null);
        var primary = root.Row is null ? earliest : root;
        var tagged = group.LastOrDefault(r => r.Row.TraceTags.Count > 0);
        string? input = null, output = null;
        if (root.Row is not null)
        {
            input = Text(root.Span.Attributes, "langfuse.trace.input") ?? root.Row.Input;
            output = Text(root.Span.Attributes, "langfuse.trace.output") ?? root.Row.Output;
        }

        return new IngestedTrace
        {
            Id = group.Key,
            Timestamp = earliest.Row.StartTime,
            Name = primary.Row.Name,
            UserId = primary.Row.UserId,
            SessionId = primary.Row.SessionId,
            Tags = tagged.Row?.TraceTags ?? [],
            Release = primary.Row.Release,
            Version = primary.Row.Version,
            Environment = primary.Row.Environment,
            Public = primary.Span.Attributes.TryGetValue("langfuse.trace.public", out var isPublic) && isPublic is true or "true",
            Input = input,
            Output = output,
            Metadata = primary.Row.Metadata,
        };
    }

    private static string ObservationType(IReadOnlyDictionary<string, object?> attributes)
    {
        if (Text(attributes, "langfuse.observation.type") is { } type && KnownTypes.Contains(type.ToUpperInvariant()))
        {
            return type.ToUpperInvariant();
        }

        return Text(attributes, "gen_ai.operation.name") switch
        {
            "chat" or "completion" or "generate_content" or "text_completion" => "GENERATION",
            "embeddings" => "EMBEDDING",
            "invoke_agent" or "create_agent" => "AGENT",
            "execute_tool" => "TOOL",
            _ => First(attributes, ModelKeys) is not null ? "GENERATION" : "SPAN",
        };
    }

    /// <summary>
    /// <c>{resourceAttributes, scopeAttributes, ...observation metadata, ...trace metadata}</c>, each metadata from its
    /// JSON attribute plus its <c>.key</c> attributes, then flattened to dotted keys as v4 stores it.
    /// </summary>
    private static Dictionary<string, string> Metadata(ReceivedSpan span)
    {
        var top = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["resourceAttributes"] = span.ResourceAttributes,
            ["scopeAttributes"] = new Dictionary<string, object?>(),
        };
        Extract(span.Attributes, "langfuse.observation.metadata", top);
        Extract(span.Attributes, "langfuse.trace.metadata", top);
        var flat = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in top)
        {
            MetadataValues.Flatten(key, value, flat);
        }

        return flat;

        static void Extract(IReadOnlyDictionary<string, object?> attributes, string prefix, Dictionary<string, object?> into)
        {
            if ((Text(attributes, prefix) ?? Text(attributes, "langfuse.metadata")) is { } json
                && ParseJson(json) is { ValueKind: JsonValueKind.Object } parsed)
            {
                foreach (var property in parsed.EnumerateObject())
                {
                    into[property.Name] = property.Value;
                }
            }

            foreach (var (key, value) in attributes)
            {
                if (key.StartsWith(prefix + ".", StringComparison.Ordinal))
                {
                    into[key[(prefix.Length + 1)..]] = value;
                }
            }
        }
    }

    private static List<string> Tags(IReadOnlyDictionary<string, object?> attributes)
    {
        if (!attributes.TryGetValue("langfuse.trace.tags", out var value) && !attributes.TryGetValue("langfuse.tags", out value))
        {
            return [];
        }

        switch (value)
        {
            case object?[] array:
                return [.. array.Select(MetadataValues.Stringify)];
            case string text when ParseJson(text) is { ValueKind: JsonValueKind.Array } parsed:
                return [.. parsed.EnumerateArray().Select(MetadataValues.Stringify)];
            case string text:
                return [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
            default:
                return [];
        }
    }

    private static Dictionary<string, decimal> Costs(string? json)
    {
        var costs = new Dictionary<string, decimal>(StringComparer.Ordinal);
        if (json is not null && ParseJson(json) is { ValueKind: JsonValueKind.Object } parsed)
        {
            foreach (var property in parsed.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetDecimal(out var amount))
                {
                    costs[property.Name] = amount;
                }
            }
        }

        return costs;
    }

    private static string? First(IReadOnlyDictionary<string, object?> attributes, string[] keys)
    {
        foreach (var key in keys)
        {
            if (Text(attributes, key) is { Length: > 0 } value)
            {
                return value;
            }
        }

        return null;
    }

    private static string? Text(IReadOnlyDictionary<string, object?> attributes, string key) =>
        attributes.TryGetValue(key, out var value) && value is not null ? MetadataValues.Stringify(value) : null;

    private static long? Number(IReadOnlyDictionary<string, object?> attributes, string key) =>
        attributes.TryGetValue(key, out var value) ? value switch
        {
            long l => l,
            double d => (long)d,
            string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        } : null;

    private static JsonElement? ParseJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool TryParseDate(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text.Trim('"'), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);

    /// <summary>Langfuse keeps times to the millisecond.</summary>
    internal static DateTimeOffset Millis(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
}
