using System.Globalization;
using System.Text.Json;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Checks an OTLP <c>ExportTraceServiceRequest</c> as far as Langfuse rejects whole requests (every span needs a trace
/// id and a span id) and counts its spans, without building the message: the relay stores the bytes it received.
/// Protobuf is walked on the wire format down to every attribute value; JSON must parse (no duplicate keys) and have
/// the OTLP/JSON shape with hex ids. Both are bounded as protobuf decoders bound them, so that nothing accepted here is
/// refused upstream for its shape: messages nest at most <see cref="MaxMessageDepth"/> deep (the recursion limit of
/// the canonical protobuf runtimes, which Langfuse's decoder enforces too) and an attribute list or key-value list holds
/// at most <see cref="MaxAttributes"/> entries. The walk allocates nothing for protobuf and recurses only as deep as
/// the limit allows.
/// </summary>
internal static class OtlpRequestValidator
{
    /// <summary>How deep messages may nest, the request itself being 1 (protobuf's default recursion limit).</summary>
    public const int MaxMessageDepth = 100;

    /// <summary>Entries in one attribute list (resource, scope, span, event, link) or one key-value list value.</summary>
    public const int MaxAttributes = 1024;

    /// <summary>The JSON nesting limit for OTLP/JSON (objects and arrays; a message is one or two levels).</summary>
    public const int MaxJsonDepth = 128;

    private const int Varint = 0;
    private const int Fixed64 = 1;
    private const int LengthDelimited = 2;
    private const int Fixed32 = 5;

    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = MaxJsonDepth, AllowDuplicateProperties = false };

    private static readonly JsonElement EmptyArray = JsonDocument.Parse("[]").RootElement;

    /// <summary>Null when valid, with <paramref name="spans"/> counted; else why not.</summary>
    public static string? ValidateProtobuf(ReadOnlySpan<byte> message, out int spans)
    {
        spans = 0;
        var fields = new FieldReader(message, "ExportTraceServiceRequest");
        while (fields.Next(out var field, out var wireType, out var value))
        {
            if (field == 1 && (Expect(wireType, "resource_spans") ?? ResourceSpans(value, 2, ref spans)) is { } error)
            {
                return error;
            }
        }

        return fields.Error;
    }

    /// <summary>Null when valid, with <paramref name="spans"/> counted; else why not.</summary>
    public static string? ValidateJson(ReadOnlyMemory<byte> json, out int spans)
    {
        spans = 0;
        if (!System.Text.Unicode.Utf8.IsValid(json.Span))
        {
            return "body is not valid UTF-8";
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            return "body is not valid JSON: " + ex.Message;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return "body must be an OTLP ExportTraceServiceRequest object";
            }

            var resources = Items(root, "resourceSpans", out var error);
            if (error is not null)
            {
                return error;
            }

            foreach (var resource in resources)
            {
                if (resource.ValueKind != JsonValueKind.Object)
                {
                    return "resourceSpans[] must be objects";
                }

                if (resource.TryGetProperty("resource", out var resourceMessage) &&
                    JsonAttributes(resourceMessage, "resource", 4) is { } resourceError)
                {
                    return resourceError;
                }

                var scopes = Items(resource, "scopeSpans", out var scopeError);
                if (scopeError is not null)
                {
                    return scopeError;
                }

                foreach (var scope in scopes)
                {
                    if (scope.ValueKind != JsonValueKind.Object)
                    {
                        return "scopeSpans[] must be objects";
                    }

                    if (scope.TryGetProperty("scope", out var scopeMessage) && JsonAttributes(scopeMessage, "scope", 5) is { } scopeAttributesError)
                    {
                        return scopeAttributesError;
                    }

                    var spanItems = Items(scope, "spans", out var spansError);
                    if (spansError is not null)
                    {
                        return spansError;
                    }

                    foreach (var span in spanItems)
                    {
                        if (JsonSpan(span, spans) is { } spanError)
                        {
                            return spanError;
                        }

                        spans++;
                    }
                }
            }

            return null;
        }
    }

    private static string? JsonSpan(JsonElement span, int index)
    {
        if (span.ValueKind != JsonValueKind.Object)
        {
            return "spans[] must be objects";
        }

        if ((HexIdError(span, "traceId", 32) ?? HexIdError(span, "spanId", 16)) is { } idError)
        {
            return string.Create(CultureInfo.InvariantCulture, $"span {index}: {idError}");
        }

        if (JsonAttributes(span, "span", 5) is { } attributesError)
        {
            return string.Create(CultureInfo.InvariantCulture, $"span {index}: {attributesError}");
        }

        foreach (var name in (ReadOnlySpan<string>)["events", "links"])
        {
            var items = Items(span, name, out var itemsError);
            if (itemsError is not null)
            {
                return string.Create(CultureInfo.InvariantCulture, $"span {index}: {itemsError}");
            }

            foreach (var item in items)
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"span {index}: {name}[] must be objects");
                }

                if (JsonAttributes(item, name, 6) is { } itemError)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"span {index}: {itemError}");
                }
            }
        }

        return null;
    }

    /// <summary>The <c>attributes</c> of a message whose key-values sit at message depth <paramref name="depth"/>.</summary>
    private static string? JsonAttributes(JsonElement message, string owner, int depth)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            return message.ValueKind == JsonValueKind.Null ? null : $"{owner} must be an object";
        }

        return JsonKeyValues(message, "attributes", $"{owner} attributes", depth);
    }

    private static string? JsonKeyValues(JsonElement message, string property, string what, int depth)
    {
        var count = 0;
        var keyValues = Items(message, property, out var error);
        if (error is not null)
        {
            return error;
        }

        foreach (var keyValue in keyValues)
        {
            if (++count > MaxAttributes)
            {
                return TooMany(what);
            }

            if (keyValue.ValueKind != JsonValueKind.Object)
            {
                return $"{what}[] must be objects";
            }

            if (keyValue.TryGetProperty("value", out var value) && JsonAnyValue(value, depth + 1) is { } valueError)
            {
                return valueError;
            }
        }

        return error;
    }

    private static string? JsonAnyValue(JsonElement value, int depth)
    {
        if (depth > MaxMessageDepth)
        {
            return TooDeep();
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return value.ValueKind == JsonValueKind.Null ? null : "an attribute value must be an object";
        }

        if (value.TryGetProperty("kvlistValue", out var kvlist) && kvlist.ValueKind == JsonValueKind.Object)
        {
            // AnyValue -> KeyValueList -> KeyValue: the key-values sit two levels below this value.
            return depth + 2 > MaxMessageDepth ? TooDeep() : JsonKeyValues(kvlist, "values", "kvlistValue values", depth + 2);
        }

        if (value.TryGetProperty("arrayValue", out var array) && array.ValueKind == JsonValueKind.Object)
        {
            if (depth + 1 > MaxMessageDepth)
            {
                return TooDeep();
            }

            var values = Items(array, "values", out var error);
            if (error is not null)
            {
                return error;
            }

            foreach (var item in values)
            {
                if (JsonAnyValue(item, depth + 2) is { } itemError)
                {
                    return itemError;
                }
            }

            return null;
        }

        return null;
    }

    /// <summary>The elements of an optional array property (absent or null: none); <paramref name="error"/> when it is not an array.</summary>
    private static JsonElement.ArrayEnumerator Items(JsonElement message, string name, out string? error)
    {
        error = null;
        if (!message.TryGetProperty(name, out var items) || items.ValueKind == JsonValueKind.Null)
        {
            return EmptyArray.EnumerateArray();
        }

        if (items.ValueKind != JsonValueKind.Array)
        {
            error = $"{name} must be an array";
            return EmptyArray.EnumerateArray();
        }

        return items.EnumerateArray();
    }

    private static string? HexIdError(JsonElement span, string name, int length)
    {
        if (!span.TryGetProperty(name, out var id) || id.ValueKind != JsonValueKind.String)
        {
            return $"{name} is required";
        }

        var text = id.GetString()!;
        if (text.Length != length || !text.All(char.IsAsciiHexDigit))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{name} must be {length} hex characters");
        }

        return text.All(static c => c == '0') ? $"{name} must not be all zeros" : null;
    }

    private static string? ResourceSpans(ReadOnlySpan<byte> message, int depth, ref int spans)
    {
        var fields = new FieldReader(message, "ResourceSpans");
        while (fields.Next(out var field, out var wireType, out var value))
        {
            var error = field switch
            {
                1 => Expect(wireType, "resource") ?? AttributesOwner(value, depth + 1, "Resource", attributesField: 1),
                2 => Expect(wireType, "scope_spans") ?? ScopeSpans(value, depth + 1, ref spans),
                _ => null,
            };
            if (error is not null)
            {
                return error;
            }
        }

        return fields.Error;
    }

    private static string? ScopeSpans(ReadOnlySpan<byte> message, int depth, ref int spans)
    {
        var fields = new FieldReader(message, "ScopeSpans");
        while (fields.Next(out var field, out var wireType, out var value))
        {
            switch (field)
            {
                case 1:
                    if ((Expect(wireType, "scope") ?? AttributesOwner(value, depth + 1, "InstrumentationScope", attributesField: 3)) is { } scopeError)
                    {
                        return scopeError;
                    }

                    break;
                case 2:
                    if ((Expect(wireType, "spans") ?? Span(value, depth + 1, spans)) is { } spanError)
                    {
                        return spanError;
                    }

                    spans++;
                    break;
            }
        }

        return fields.Error;
    }

    private static string? Span(ReadOnlySpan<byte> message, int depth, int index)
    {
        if (depth > MaxMessageDepth)
        {
            return TooDeep();
        }

        var traceId = false;
        var spanId = false;
        var attributes = 0;
        var fields = new FieldReader(message, "Span");
        while (fields.Next(out var field, out var wireType, out var value))
        {
            string? error = null;
            switch (field)
            {
                case 1:
                    error = Expect(wireType, "trace_id");
                    traceId = value.Length == 16 && value.ContainsAnyExcept((byte)0);
                    break;
                case 2:
                    error = Expect(wireType, "span_id");
                    spanId = value.Length == 8 && value.ContainsAnyExcept((byte)0);
                    break;
                case 9:
                    error = ++attributes > MaxAttributes ? TooMany("span attributes") : Expect(wireType, "attributes") ?? KeyValue(value, depth + 1);
                    break;
                case 11:
                    error = Expect(wireType, "events") ?? AttributesOwner(value, depth + 1, "Span.Event", attributesField: 3);
                    break;
                case 13:
                    error = Expect(wireType, "links") ?? AttributesOwner(value, depth + 1, "Span.Link", attributesField: 4);
                    break;
                case 15:
                    error = Expect(wireType, "status") ?? AttributesOwner(value, depth + 1, "Status", attributesField: 0);
                    break;
            }

            if (error is not null)
            {
                return string.Create(CultureInfo.InvariantCulture, $"span {index}: {error}");
            }
        }

        if (fields.Error is { } fieldError)
        {
            return fieldError;
        }

        if (!traceId)
        {
            return string.Create(CultureInfo.InvariantCulture, $"span {index} has no valid traceId (16 bytes, not all zero)");
        }

        return spanId ? null : string.Create(CultureInfo.InvariantCulture, $"span {index} has no valid spanId (8 bytes, not all zero)");
    }

    /// <summary>A message whose field <paramref name="attributesField"/> (0: none) is a list of key-values.</summary>
    private static string? AttributesOwner(ReadOnlySpan<byte> message, int depth, string name, int attributesField)
    {
        if (depth > MaxMessageDepth)
        {
            return TooDeep();
        }

        var attributes = 0;
        var fields = new FieldReader(message, name);
        while (fields.Next(out var field, out var wireType, out var value))
        {
            if (field == attributesField && attributesField != 0)
            {
                if ((++attributes > MaxAttributes ? TooMany(name + " attributes") : Expect(wireType, "attributes") ?? KeyValue(value, depth + 1)) is { } error)
                {
                    return error;
                }
            }
        }

        return fields.Error;
    }

    private static string? KeyValue(ReadOnlySpan<byte> message, int depth)
    {
        if (depth > MaxMessageDepth)
        {
            return TooDeep();
        }

        var fields = new FieldReader(message, "KeyValue");
        while (fields.Next(out var field, out var wireType, out var value))
        {
            if (field == 2 && (Expect(wireType, "value") ?? AnyValue(value, depth + 1)) is { } error)
            {
                return error;
            }
        }

        return fields.Error;
    }

    private static string? AnyValue(ReadOnlySpan<byte> message, int depth)
    {
        if (depth > MaxMessageDepth)
        {
            return TooDeep();
        }

        var fields = new FieldReader(message, "AnyValue");
        while (fields.Next(out var field, out var wireType, out var value))
        {
            var error = field switch
            {
                5 => Expect(wireType, "array_value") ?? ArrayValue(value, depth + 1),
                6 => Expect(wireType, "kvlist_value") ?? KeyValueList(value, depth + 1),
                _ => null,
            };
            if (error is not null)
            {
                return error;
            }
        }

        return fields.Error;
    }

    private static string? ArrayValue(ReadOnlySpan<byte> message, int depth)
    {
        if (depth > MaxMessageDepth)
        {
            return TooDeep();
        }

        var fields = new FieldReader(message, "ArrayValue");
        while (fields.Next(out var field, out var wireType, out var value))
        {
            if (field == 1 && (Expect(wireType, "values") ?? AnyValue(value, depth + 1)) is { } error)
            {
                return error;
            }
        }

        return fields.Error;
    }

    private static string? KeyValueList(ReadOnlySpan<byte> message, int depth)
    {
        if (depth > MaxMessageDepth)
        {
            return TooDeep();
        }

        var count = 0;
        var fields = new FieldReader(message, "KeyValueList");
        while (fields.Next(out var field, out var wireType, out var value))
        {
            if (field == 1 && (++count > MaxAttributes ? TooMany("kvlist_value values") : Expect(wireType, "values") ?? KeyValue(value, depth + 1)) is { } error)
            {
                return error;
            }
        }

        return fields.Error;
    }

    private static string TooDeep() =>
        string.Create(CultureInfo.InvariantCulture, $"messages nest deeper than {MaxMessageDepth} levels (attribute values nested too deep)");

    private static string TooMany(string what) =>
        string.Create(CultureInfo.InvariantCulture, $"more than {MaxAttributes} {what}");

    private static string? Expect(int wireType, string field) =>
        wireType == LengthDelimited ? null : string.Create(CultureInfo.InvariantCulture, $"field {field} has wire type {wireType}, expected length-delimited");

    /// <summary>Walks the fields of one message; <see cref="Error"/> says why it stopped early.</summary>
    private ref struct FieldReader(ReadOnlySpan<byte> message, string name)
    {
        private readonly ReadOnlySpan<byte> _message = message;
        private int _position;

        public string? Error { get; private set; }

        public bool Next(out int field, out int wireType, out ReadOnlySpan<byte> value)
        {
            field = 0;
            wireType = 0;
            value = default;
            if (_position >= _message.Length || Error is not null)
            {
                return false;
            }

            if (!TryReadVarint(_message, ref _position, out var tag))
            {
                return Fail("truncated field tag");
            }

            var number = tag >> 3;
            wireType = (int)(tag & 7);
            if (number is 0 or > 536_870_911)
            {
                return Fail("invalid field number");
            }

            field = (int)number;
            switch (wireType)
            {
                case Varint:
                    var start = _position;
                    if (!TryReadVarint(_message, ref _position, out _))
                    {
                        return Fail("truncated varint");
                    }

                    value = _message[start.._position];
                    return true;
                case Fixed64 or Fixed32:
                    var size = wireType == Fixed64 ? 8 : 4;
                    if (_message.Length - _position < size)
                    {
                        return Fail("truncated fixed-size field");
                    }

                    value = _message.Slice(_position, size);
                    _position += size;
                    return true;
                case LengthDelimited:
                    if (!TryReadVarint(_message, ref _position, out var length) || length > (ulong)(_message.Length - _position))
                    {
                        return Fail("length-delimited field runs past the end of the message");
                    }

                    value = _message.Slice(_position, (int)length);
                    _position += (int)length;
                    return true;
                default:
                    return Fail(string.Create(CultureInfo.InvariantCulture, $"unsupported wire type {wireType}"));
            }
        }

        private bool Fail(string reason)
        {
            Error = $"{name}: {reason}";
            return false;
        }
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> buffer, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (position >= buffer.Length)
            {
                return false;
            }

            var b = buffer[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }
}
