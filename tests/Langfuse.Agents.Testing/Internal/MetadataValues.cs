using System.Globalization;
using System.Text.Json;

namespace Langfuse.Agents.Testing.Internal;

/// <summary>How Langfuse stores metadata: string values; the v4 rows flatten nested objects to dotted keys.</summary>
internal static class MetadataValues
{
    /// <summary>A JSON value as Langfuse stores it in a string column: strings as they are, anything else as JSON text.</summary>
    public static string Stringify(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    /// <summary>An OTLP attribute value (string, bool, long, double, array, key-value list) as a string.</summary>
    public static string Stringify(object? value) => value switch
    {
        null => "null",
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => JsonSerializer.Serialize(ToPlain(value)),
    };

    /// <summary>Top-level keys with string values (the batch path's <c>convertRecordValuesToString</c>).</summary>
    public static Dictionary<string, string> TopLevel(JsonElement metadata)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in metadata.EnumerateObject())
            {
                result[property.Name] = Stringify(property.Value);
            }
        }
        else if (metadata.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
        {
            result["metadata"] = Stringify(metadata);
        }

        return result;
    }

    /// <summary>Nested objects flattened to dotted keys (v4 rows); arrays and scalars as strings.</summary>
    public static void Flatten(string prefix, object? value, Dictionary<string, string> into)
    {
        switch (value)
        {
            case JsonElement { ValueKind: JsonValueKind.Object } element:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(Join(prefix, property.Name), property.Value, into);
                }

                break;
            case IReadOnlyDictionary<string, object?> map:
                foreach (var (key, inner) in map)
                {
                    Flatten(Join(prefix, key), inner, into);
                }

                break;
            case JsonElement element:
                into[prefix] = Stringify(element);
                break;
            default:
                into[prefix] = Stringify(value);
                break;
        }
    }

    private static string Join(string prefix, string key) => prefix.Length == 0 ? key : prefix + "." + key;

    private static object? ToPlain(object? value) => value switch
    {
        object?[] array => array.Select(ToPlain).ToArray(),
        IReadOnlyDictionary<string, object?> map => map.ToDictionary(kv => kv.Key, kv => ToPlain(kv.Value)),
        byte[] bytes => Convert.ToBase64String(bytes),
        _ => value,
    };
}
