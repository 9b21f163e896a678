using Langfuse.Agents.Internal.Export;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Langfuse.Agents;

/// <summary>
/// Builds masks for <see cref="LangfuseOptions.Mask"/> from a function written for strings, so that text nested in
/// objects, arrays, dictionaries, <see cref="JsonNode"/> and <see cref="JsonElement"/> values is masked too.
/// </summary>
/// <example>
/// <code>
/// options.Mask = LangfuseMask.EveryString(s => s.Replace("jane@example.com", "[email]"));
/// </code>
/// </example>
public static class LangfuseMask
{
    /// <summary>How deep a value may nest before masking gives up (and the value is sent fully masked).</summary>
    public const int MaxDepth = 64;

    // The SDK's own serialization defaults, so an object masked here keeps the shape it would have had unmasked.
    // The same resolver chain too (the user's resolver, the SDK's source-generated metadata, reflection only where the
    // runtime allows it), so masking is as trim- and AOT-safe as serializing.
    private static readonly JsonSerializerOptions DefaultOptions = ObservationPreparer.JsonOptionsFor(null);

    /// <summary>
    /// A mask that applies <paramref name="mask"/> to every string leaf of a value and leaves its structure, keys,
    /// numbers and booleans as they are.
    /// </summary>
    /// <param name="mask">The function for one string; it may return null to drop the text.</param>
    /// <param name="serializerOptions">
    /// How objects other than strings, JSON values and collections are turned into JSON before masking; pass the
    /// <see cref="LangfuseOptions.JsonSerializerOptions"/> you use, if any. Default: the SDK's defaults.
    /// </param>
    /// <returns>A function for <see cref="LangfuseOptions.Mask"/>.</returns>
    public static Func<object?, object?> EveryString(Func<string, string?> mask, JsonSerializerOptions? serializerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var options = serializerOptions is null ? DefaultOptions : ObservationPreparer.JsonOptionsFor(serializerOptions);
        return value => Apply(value, mask, options);
    }

    /// <summary>
    /// Applies <paramref name="mask"/> to every string leaf of <paramref name="value"/>. A string gives a string;
    /// numbers, booleans and null stay; anything else gives a <see cref="JsonNode"/> with the same structure.
    /// </summary>
    /// <param name="value">The value: a string, a JSON value, a collection, a dictionary or any serializable object.</param>
    /// <param name="mask">The function for one string.</param>
    /// <param name="serializerOptions">How other objects become JSON (default: the SDK's defaults).</param>
    /// <returns>The masked value.</returns>
    /// <exception cref="InvalidOperationException">The value nests deeper than <see cref="MaxDepth"/>; as a mask, the value is then sent fully masked.</exception>
    public static object? Apply(object? value, Func<string, string?> mask, JsonSerializerOptions? serializerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(mask);
        return value switch
        {
            null => null,
            string text => mask(text),
            bool or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal => value,
            JsonNode node => Walk(node, mask, 0),
            JsonElement element => Walk(JsonNode.Parse(element.GetRawText()), mask, 0),
            JsonDocument document => Walk(JsonNode.Parse(document.RootElement.GetRawText()), mask, 0),

            // Collections, dictionaries, records, anonymous objects: as JSON first, which keeps every leaf a JSON
            // string, number or boolean, and then walked.
            _ => WalkObject(value, mask, serializerOptions),
        };
    }

    private static object? WalkObject(object value, Func<string, string?> mask, JsonSerializerOptions? serializerOptions)
    {
        var options = serializerOptions is null ? DefaultOptions
            : serializerOptions.IsReadOnly && serializerOptions.TypeInfoResolver is not null ? serializerOptions
            : ObservationPreparer.JsonOptionsFor(serializerOptions);
        return options.TryGetTypeInfo(value.GetType(), out var typeInfo)
            ? Walk(JsonSerializer.SerializeToNode(value, typeInfo), mask, 0)
            : ObservationPreparer.NoMetadataMarker(value.GetType()); // no metadata (trimmed or AOT): nothing to leak
    }

    private static JsonNode? Walk(JsonNode? node, Func<string, string?> mask, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidOperationException($"The value nests deeper than {MaxDepth} levels.");
        }

        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                var maskedObject = new JsonObject();
                foreach (var (key, child) in obj)
                {
                    maskedObject[key] = Walk(child, mask, depth + 1);
                }

                return maskedObject;
            case JsonArray array:
                var maskedArray = new JsonArray();
                foreach (var child in array)
                {
                    maskedArray.Add(Walk(child, mask, depth + 1));
                }

                return maskedArray;
            case JsonValue leaf when leaf.GetValueKind() == JsonValueKind.String:
                return mask(leaf.GetValue<string>()) is { } masked ? JsonValue.Create(masked) : null;
            default:
                return node.DeepClone();
        }
    }
}
