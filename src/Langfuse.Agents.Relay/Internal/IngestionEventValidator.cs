using System.Text.Json;
using System.Text.RegularExpressions;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Per-event checks of the batch endpoint, following the Langfuse server's zod schemas (the same rules as the test
/// suite's fake Langfuse, which keeps its own copy so the two stay independent). An event that fails here would get a
/// per-event 400 from Langfuse: the relay reports it in its 207 and never stores or forwards it. What Langfuse accepts
/// and then quietly fixes or drops (an odd environment, a trace without body.id) is accepted and forwarded as sent.
/// </summary>
internal static partial class IngestionEventValidator
{
    public static readonly HashSet<string> ObservationEventTypes =
    [
        "span-create", "span-update", "generation-create", "generation-update", "event-create",
        "agent-create", "tool-create", "chain-create", "retriever-create", "evaluator-create",
        "embedding-create", "guardrail-create",
    ];

    private static readonly HashSet<string> UsageIntegerKeys =
        ["input", "output", "total", "promptTokens", "completionTokens", "totalTokens"];

    private static readonly HashSet<string> UsageCostKeys = ["inputCost", "outputCost", "totalCost"];

    private static readonly string[] TraceStringFields = ["name", "userId", "sessionId", "release", "version"];

    private static readonly string[] ScoreStringFields = ["traceId", "observationId", "sessionId", "datasetRunId", "comment"];

    private static readonly string[] ScoreTargets = ["traceId", "sessionId", "datasetRunId"];

    private static readonly string[] ObservationStringFields = ["traceId", "parentObservationId", "name", "statusMessage", "version", "model", "promptName"];

    private static readonly string[] ObservationDateFields = ["startTime", "endTime", "completionStartTime"];

    private static readonly HashSet<string> Levels = ["DEBUG", "DEFAULT", "WARNING", "ERROR"];

    public static bool IsKnownType(string type) =>
        ObservationEventTypes.Contains(type) || type is "trace-create" or "score-create" or "sdk-log";

    private static bool IsLevel(string level) => Levels.Contains(level);

    public static bool IsIsoDateTime(string value) =>
        IsoDateTime().IsMatch(value) &&
        DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _);

    /// <summary>Error text when <paramref name="map"/> is not an object of non-negative numbers (integers if asked); nulls allowed.</summary>
    public static string? NumberMapError(JsonElement map, bool integers)
    {
        if (map.ValueKind != JsonValueKind.Object)
        {
            return "must be an object";
        }

        foreach (var property in map.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (NumberError(property.Value, integers) is { } error)
            {
                return $"'{property.Name}' {error}";
            }
        }

        return null;
    }

    /// <summary>Checks one event: null when Langfuse would accept it, else the error; <paramref name="id"/> is its envelope id (or empty).</summary>
    public static string? Validate(JsonElement item, out string id, out string? type)
    {
        id = "";
        type = null;
        if (item.ValueKind != JsonValueKind.Object)
        {
            return "event must be an object";
        }

        if (!item.TryGetProperty("id", out var idElement) || idElement.ValueKind != JsonValueKind.String)
        {
            return "id: required string";
        }

        id = idElement.GetString()!;
        if (id.Length is < 1 or > 800)
        {
            return "id: must be 1..800 characters";
        }

        if (!item.TryGetProperty("timestamp", out var timestamp) || timestamp.ValueKind != JsonValueKind.String)
        {
            return "timestamp: required ISO 8601 string";
        }

        if (!IsIsoDateTime(timestamp.GetString()!))
        {
            return "timestamp: invalid datetime (ISO 8601 with Z or an offset required)";
        }

        if (!item.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            return "type: required string";
        }

        type = typeElement.GetString()!;
        if (!IsKnownType(type))
        {
            return $"type: unknown event type '{type}'";
        }

        if (!item.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object)
        {
            return "body: required object";
        }

        if (type == "sdk-log")
        {
            return null;
        }

        if (StringOrNull(body, "id", out var bodyId) is { } idError)
        {
            return "body." + idError;
        }

        if (StringOrNull(body, "environment", out _) is { } envError)
        {
            return envError;
        }

        return type switch
        {
            "trace-create" => ValidateTrace(body),
            "score-create" => ValidateScore(body),
            _ => ValidateObservation(body, bodyId),
        };
    }

    private static string? ValidateTrace(JsonElement body)
    {
        foreach (var name in TraceStringFields)
        {
            if (StringOrNull(body, name, out _) is { } error)
            {
                return error;
            }
        }

        if (DateOrNull(body, "timestamp") is { } timestampError)
        {
            return timestampError;
        }

        if (Present(body, "tags", out var tags) &&
            (tags.ValueKind != JsonValueKind.Array || tags.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String)))
        {
            return "tags: must be an array of strings";
        }

        if (Present(body, "public", out var isPublic) && isPublic.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return "public: must be a boolean";
        }

        return null;
    }

    private static string? ValidateScore(JsonElement body)
    {
        if (!Present(body, "name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
        {
            return "name: required string";
        }

        if (!Present(body, "value", out var value) || value.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
        {
            return "value: required number or string";
        }

        if (StringOrNull(body, "dataType", out var dataType) is { } dataTypeError)
        {
            return dataTypeError;
        }

        switch (dataType)
        {
            case null:
                break;
            case "NUMERIC" when value.ValueKind != JsonValueKind.Number:
                return "value: NUMERIC scores need a number";
            case "CATEGORICAL" when value.ValueKind != JsonValueKind.String:
                return "value: CATEGORICAL scores need a string";
            case "BOOLEAN" when value.ValueKind != JsonValueKind.Number || value.GetDouble() is not (0 or 1):
                return "value: BOOLEAN scores need 0 or 1";
            case "TEXT" when value.ValueKind != JsonValueKind.String || value.GetString()!.Length is < 1 or > 500:
                return "value: TEXT scores need a string of 1..500 characters";
            case "NUMERIC" or "CATEGORICAL" or "BOOLEAN" or "TEXT":
                break;
            default:
                return $"dataType: '{dataType}' is not NUMERIC, CATEGORICAL, BOOLEAN or TEXT";
        }

        foreach (var field in ScoreStringFields)
        {
            if (StringOrNull(body, field, out _) is { } error)
            {
                return error;
            }
        }

        var targets = ScoreTargets.Count(t => Present(body, t, out _));
        if (targets != 1)
        {
            return $"exactly one of traceId, sessionId, datasetRunId is required (got {targets})";
        }

        if (Present(body, "observationId", out _) && !Present(body, "traceId", out _))
        {
            return "observationId: only allowed together with traceId";
        }

        return null;
    }

    private static string? ValidateObservation(JsonElement body, string? bodyId)
    {
        if (bodyId is null or "")
        {
            return "body.id: required for observation events";
        }

        foreach (var field in ObservationStringFields)
        {
            if (StringOrNull(body, field, out _) is { } error)
            {
                return error;
            }
        }

        foreach (var field in ObservationDateFields)
        {
            if (DateOrNull(body, field) is { } error)
            {
                return error;
            }
        }

        if (StringOrNull(body, "level", out var level) is { } levelError)
        {
            return levelError;
        }

        if (level is not null && !IsLevel(level))
        {
            return $"level: '{level}' is not DEBUG, DEFAULT, WARNING or ERROR";
        }

        if (Present(body, "usageDetails", out var usageDetails) && NumberMapError(usageDetails, integers: true) is { } usageDetailsError)
        {
            return "usageDetails: " + usageDetailsError;
        }

        if (Present(body, "usage", out var usage) && UsageError(usage) is { } usageError)
        {
            return "usage: " + usageError;
        }

        if (Present(body, "costDetails", out var costDetails) && NumberMapError(costDetails, integers: false) is { } costError)
        {
            return "costDetails: " + costError;
        }

        var hasPromptName = Present(body, "promptName", out _);
        var hasPromptVersion = Present(body, "promptVersion", out var promptVersion);
        if (hasPromptName != hasPromptVersion)
        {
            return "promptName and promptVersion: both or neither";
        }

        if (hasPromptVersion && NumberError(promptVersion, integers: true) is { } versionError)
        {
            return "promptVersion: " + versionError;
        }

        if (Present(body, "modelParameters", out var modelParameters) && modelParameters.ValueKind != JsonValueKind.Object)
        {
            return "modelParameters: must be an object";
        }

        return null;
    }

    private static string? UsageError(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return "must be an object";
        }

        foreach (var property in usage.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            string? error = property.Name switch
            {
                "unit" => property.Value.ValueKind == JsonValueKind.String ? null : "must be a string",
                _ when UsageIntegerKeys.Contains(property.Name) => NumberError(property.Value, integers: true),
                _ when UsageCostKeys.Contains(property.Name) => NumberError(property.Value, integers: false),
                _ => NumberError(property.Value, integers: true),
            };
            if (error is not null)
            {
                return $"'{property.Name}' {error}";
            }
        }

        return null;
    }

    private static string? NumberError(JsonElement value, bool integers)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            return "must be a number";
        }

        var number = value.GetDouble();
        if (number < 0)
        {
            return "must not be negative";
        }

        return integers && (Math.Floor(number) != number || value.GetRawText().Contains('.', StringComparison.Ordinal))
            ? "must be an integer"
            : null;
    }

    private static bool Present(JsonElement body, string name, out JsonElement value) =>
        body.TryGetProperty(name, out value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);

    private static string? StringOrNull(JsonElement body, string name, out string? value)
    {
        value = null;
        if (!Present(body, name, out var element))
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            return $"{name}: must be a string";
        }

        value = element.GetString();
        return null;
    }

    private static string? DateOrNull(JsonElement body, string name)
    {
        if (StringOrNull(body, name, out var value) is { } error)
        {
            return error;
        }

        return value is null || IsIsoDateTime(value) ? null : $"{name}: invalid datetime (ISO 8601 with Z or an offset required)";
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)$")]
    private static partial Regex IsoDateTime();

}
