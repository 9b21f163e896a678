using System.Globalization;
using System.Text.Json;

namespace Langfuse.Agents.Testing.Internal;

/// <summary>
/// Langfuse's usage handling, ported: the <c>UsageDetails</c> zod union (packages/shared/src/server/ingestion/types.ts),
/// <c>IngestionService.getUsageUnits</c> and <c>warnOnUsageTotalMismatch</c> (worker/src/services/IngestionService).
/// </summary>
internal static class UsageProcessing
{
    private static readonly HashSet<string> CompletionKeys =
        ["prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "completion_tokens_details"];

    private static readonly HashSet<string> ResponseKeys =
        ["input_tokens", "output_tokens", "total_tokens", "input_tokens_details", "output_tokens_details"];

    /// <summary>
    /// The union: OpenAI Chat Completions usage, else OpenAI Responses usage (both strict; each detail becomes
    /// <c>input_{key}</c> / <c>output_{key}</c> and is subtracted from input / output), else raw buckets (non-negative
    /// integers or null). Null when none matches: Langfuse then drops the usage with a warning.
    /// </summary>
    public static Dictionary<string, long?>? Parse(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return OpenAiShape(usage, CompletionKeys, "prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details")
            ?? OpenAiShape(usage, ResponseKeys, "input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details")
            ?? Raw(usage);
    }

    /// <summary>
    /// <c>getUsageUnits</c> for provided usage: null and negative counts dropped, <c>total</c> added as the sum of the
    /// others when absent; and the mismatch warning when the non-total buckets exceed a provided total.
    /// </summary>
    public static Dictionary<string, long> Finalize(IReadOnlyDictionary<string, long?>? provided, string observationId, List<string> warnings)
    {
        var usage = new Dictionary<string, long>(StringComparer.Ordinal);
        if (provided is null)
        {
            return usage;
        }

        foreach (var (key, value) in provided)
        {
            if (value is >= 0)
            {
                usage[key] = value.Value;
            }
        }

        if (usage.TryGetValue("total", out var total))
        {
            var bucketSum = usage.Where(kv => kv.Key != "total").Sum(kv => kv.Value);
            if (bucketSum > total)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{LangfuseIngestionModel.UsageTotalMismatchWarning} (observation {observationId}: providedTotal {total}, bucketSum {bucketSum})"));
            }
        }
        else if (usage.Count > 0)
        {
            usage["total"] = usage.Values.Sum();
        }

        return usage;
    }

    private static Dictionary<string, long?>? OpenAiShape(
        JsonElement usage, HashSet<string> allowed, string inputKey, string outputKey, string inputDetails, string outputDetails)
    {
        foreach (var property in usage.EnumerateObject())
        {
            if (!allowed.Contains(property.Name))
            {
                return null; // .strict(): unknown keys fail this member of the union
            }
        }

        if (Count(usage, inputKey) is not { } input || Count(usage, outputKey) is not { } output || Count(usage, "total_tokens") is not { } total)
        {
            return null;
        }

        var result = new Dictionary<string, long?>(StringComparer.Ordinal) { ["input"] = input, ["output"] = output, ["total"] = total };
        if (!Details(usage, inputDetails, "input_", result) || !Details(usage, outputDetails, "output_", result))
        {
            return null;
        }

        return result;
    }

    private static bool Details(JsonElement usage, string name, string prefix, Dictionary<string, long?> result)
    {
        if (!usage.TryGetProperty(name, out var details) || details.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (details.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        var bucket = prefix == "input_" ? "input" : "output";
        foreach (var property in details.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (NonNegativeInteger(property.Value) is not { } value)
            {
                return false;
            }

            result[prefix + property.Name] = value;
            result[bucket] = Math.Max(result[bucket]!.Value - value, 0);
        }

        return true;
    }

    private static Dictionary<string, long?>? Raw(JsonElement usage)
    {
        var result = new Dictionary<string, long?>(StringComparer.Ordinal);
        foreach (var property in usage.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                result[property.Name] = null;
                continue;
            }

            if (NonNegativeInteger(property.Value) is not { } value)
            {
                return null;
            }

            result[property.Name] = value;
        }

        return result;
    }

    private static long? Count(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var value) ? NonNegativeInteger(value) : null;

    private static long? NonNegativeInteger(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= 0 ? number : null;
}
