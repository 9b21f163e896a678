using System.Text.Json;
using System.Text.Unicode;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Reads a batch body (<c>{"batch": [...], "metadata": {...}}</c>) as the forwarder and Langfuse will read it, and finds
/// where each event's bytes are, so that what is stored is made of the bytes the client sent (never re-encoded: a
/// re-serialized <c>&lt;</c> becomes <c>\u003C</c>, six bytes for one). The envelope must be strict JSON within
/// <see cref="MaxDepth"/> with no key twice (else the whole request is refused, as Langfuse refuses a body it cannot
/// read); an event with a key twice anywhere inside it, which the forwarder could not settle and Langfuse would read
/// differently from a strict parser, is refused alone with a per-event 400.
/// </summary>
internal static class IngestionBatchReader
{
    /// <summary>.NET's default JSON depth, which the forwarder's readers use: a deeper body is refused here, not there.</summary>
    public const int MaxDepth = 64;

    private static readonly JsonDocumentOptions Strict = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };
    private static readonly JsonDocumentOptions Lenient = new() { MaxDepth = MaxDepth };

    /// <summary>The envelope's events (each validated) and metadata, or null with <paramref name="error"/> for a body that is not a batch.</summary>
    public static IngestionBatch? Read(ReadOnlyMemory<byte> json, out string? error)
    {
        error = null;
        var ranges = new List<Range>();
        Range? metadata = null;
        var sawBatch = false;
        try
        {
            var reader = new Utf8JsonReader(json.Span, new JsonReaderOptions { MaxDepth = MaxDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = NotABatch;
                return null;
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                if (!names.Add(name))
                {
                    error = $"Body has the key '{Shorten(name)}' twice";
                    return null;
                }

                reader.Read();
                switch (name)
                {
                    case "batch" when reader.TokenType == JsonTokenType.StartArray:
                        sawBatch = true;
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        {
                            var start = (int)reader.TokenStartIndex;
                            reader.Skip();
                            ranges.Add(start..(int)reader.BytesConsumed);
                        }

                        break;
                    case "batch":
                        error = NotABatch;
                        return null;
                    case "metadata":
                        var metadataStart = (int)reader.TokenStartIndex;
                        reader.Skip();
                        metadata = metadataStart..(int)reader.BytesConsumed;
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (reader.Read())
            {
                error = "Body is not valid JSON: content after the end of the object";
                return null;
            }
        }
        catch (JsonException ex)
        {
            error = "Body is not valid JSON: " + ex.Message;
            return null;
        }
        catch (InvalidOperationException)
        {
            error = "Body is not valid UTF-8"; // in a key of the envelope
            return null;
        }

        if (!sawBatch)
        {
            error = NotABatch;
            return null;
        }

        if (metadata is { } metadataRange && !Utf8.IsValid(json.Span[metadataRange]))
        {
            error = "metadata: not valid UTF-8";
            return null;
        }

        if (metadata is { } metadataRange2 && ParseError(json[metadataRange2]) is { } metadataError)
        {
            error = "metadata: " + metadataError;
            return null;
        }

        var events = new List<BatchEvent>(ranges.Count);
        foreach (var range in ranges)
        {
            events.Add(ReadEvent(json, range));
        }

        return new IngestionBatch(json, events, metadata, Utf8.IsValid(json.Span));
    }

    private const string NotABatch = "Body must be {\"batch\": [...], \"metadata\": {...}}";

    private static BatchEvent ReadEvent(ReadOnlyMemory<byte> json, Range range)
    {
        var bytes = json[range];
        if (!Utf8.IsValid(bytes.Span))
        {
            // Langfuse would read U+FFFD in its place, the forwarder would fail on it: neither is what was sent.
            return new BatchEvent(range, "", "event is not valid UTF-8");
        }

        JsonDocument document;
        string? duplicate = null;
        try
        {
            document = JsonDocument.Parse(bytes, Strict);
        }
        catch (JsonException)
        {
            // The envelope reader has already checked the syntax and depth, so this is a key given twice: read it as
            // Langfuse would (the last one wins) only to report the event's id and where the duplicate is.
            document = JsonDocument.Parse(bytes, Lenient);
            duplicate = FindDuplicate(document.RootElement, "") ?? "a key";
        }

        using (document)
        {
            var error = IngestionEventValidator.Validate(document.RootElement, out var id, out _);
            if (duplicate is not null)
            {
                error = $"{duplicate}: given twice in the event (duplicate JSON keys are refused)";
            }

            return new BatchEvent(range, id, error);
        }
    }

    private static string? ParseError(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes, Strict);
            return null;
        }
        catch (JsonException)
        {
            using var document = JsonDocument.Parse(bytes, Lenient);
            return (FindDuplicate(document.RootElement, "") ?? "a key") + ": given twice";
        }
    }

    /// <summary>The path of the first key given twice in one object, or null. Recursion is bounded by <see cref="MaxDepth"/>.</summary>
    private static string? FindDuplicate(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    var here = path.Length == 0 ? Shorten(property.Name) : path + "." + Shorten(property.Name);
                    if (!names.Add(property.Name))
                    {
                        return here;
                    }

                    if (FindDuplicate(property.Value, here) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindDuplicate(item, $"{path}[{index++}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static string Shorten(string name) => name.Length > 64 ? name[..64] + "..." : name;
}
