using System.Text.Json;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Byte ranges inside JSON documents, found with <see cref="Utf8JsonReader"/> (no DOM, so a duplicate key cannot make
/// it throw), and new documents spliced from the original bytes: the forwarder merges, splits and trims request bodies
/// without ever re-encoding an event (re-encoding changes bytes, e.g. <c>&lt;</c> into <c>\u003C</c>).
/// Duplicate keys resolve as JavaScript's <c>JSON.parse</c> resolves them, which is what Langfuse reads: the last wins.
/// </summary>
internal static class JsonSlices
{
    /// <summary>Nesting deeper than this is refused: request bodies here are never that deep, and the reader's stack stays bounded.</summary>
    public const int MaxDepth = 256;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>
    /// Finds, in a top-level JSON object, the array value of <paramref name="property"/> (its last occurrence) and the
    /// byte range of each element. False when the document is not a valid JSON object or the property is missing or
    /// not an array.
    /// </summary>
    public static bool TryFindArray(
        ReadOnlySpan<byte> json,
        ReadOnlySpan<byte> property,
        out ArrayLayout layout)
    {
        layout = default;
        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            Range? array = null;
            List<ElementInfo>? elements = null;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break; // the root object ends
                }

                // A property name at depth 1.
                var isTarget = reader.ValueTextEquals(property);
                if (!reader.Read())
                {
                    return false;
                }

                if (isTarget && reader.TokenType == JsonTokenType.StartArray)
                {
                    var start = (int)reader.TokenStartIndex;
                    var found = new List<ElementInfo>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        var elementStart = (int)reader.TokenStartIndex;
                        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                        {
                            reader.Skip();
                        }

                        var elementEnd = (int)reader.BytesConsumed;
                        found.Add(new ElementInfo(elementStart, elementEnd - elementStart, null, null));
                    }

                    array = new Range(start, (int)reader.BytesConsumed);
                    elements = found;
                }
                else
                {
                    if (isTarget)
                    {
                        array = null; // the last occurrence wins, and it is not an array
                        elements = null;
                    }

                    reader.Skip();
                }
            }

            // Nothing but whitespace may follow the root object.
            if (reader.Read())
            {
                return false;
            }

            if (array is null || elements is null)
            {
                return false;
            }

            layout = new ArrayLayout(array.Value, elements);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The range of the last top-level value of <paramref name="property"/> in an object known to be valid, or null.</summary>
    public static Range? FindValue(ReadOnlySpan<byte> json, ReadOnlySpan<byte> property)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        Range? found = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isTarget = reader.ValueTextEquals(property);
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                if (isTarget)
                {
                    found = new Range(start, (int)reader.BytesConsumed);
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return found;
    }

    /// <summary>
    /// In an event object (the bytes of one element), the last <c>id</c> and <c>type</c> string values at its top level.
    /// Null for what is missing, not a string, or unreadable.
    /// </summary>
    public static (string? Id, string? Type) ReadEnvelope(ReadOnlySpan<byte> element)
    {
        var reader = new Utf8JsonReader(element, ReaderOptions);
        string? id = null, type = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                var isType = !isId && reader.ValueTextEquals("type"u8);
                reader.Read();
                if (isId)
                {
                    id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (isType)
                {
                    type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                reader.Skip();
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return (null, null);
        }

        return (id, type);
    }

    /// <summary>
    /// <paramref name="document"/> with the array at <paramref name="array"/> replaced by the given elements (each the
    /// raw bytes of one JSON value), everything else byte for byte.
    /// </summary>
    public static byte[] ReplaceArray(ReadOnlySpan<byte> document, Range array, IReadOnlyList<ReadOnlyMemory<byte>> elements)
    {
        var (offset, length) = array.GetOffsetAndLength(document.Length);
        var size = document.Length - length + 2 + Math.Max(0, elements.Count - 1);
        foreach (var element in elements)
        {
            size += element.Length;
        }

        var result = new byte[size];
        var writer = new SpanWriter(result);
        writer.Write(document[..offset]);
        writer.Write("["u8);
        for (var i = 0; i < elements.Count; i++)
        {
            if (i > 0)
            {
                writer.Write(","u8);
            }

            writer.Write(elements[i].Span);
        }

        writer.Write("]"u8);
        writer.Write(document[(offset + length)..]);
        return result;
    }

    /// <summary>Where a top-level array is, and each of its elements.</summary>
    /// <param name="Array">The array value, brackets included.</param>
    /// <param name="Elements">Its elements, in order.</param>
    internal readonly record struct ArrayLayout(Range Array, IReadOnlyList<ElementInfo> Elements);

    /// <summary>One element of an array: its bytes, and for batch events the envelope id and type.</summary>
    internal readonly record struct ElementInfo(int Start, int Length, string? Id, string? Type);

    private ref struct SpanWriter(Span<byte> target)
    {
        private readonly Span<byte> _target = target;
        private int _position;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_target[_position..]);
            _position += bytes.Length;
        }
    }
}
