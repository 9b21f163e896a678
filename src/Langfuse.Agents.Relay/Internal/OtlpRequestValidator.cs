using System.Globalization;
using System.Text.Json;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Checks an OTLP <c>ExportTraceServiceRequest</c> as far as Langfuse rejects whole requests (every span needs a trace
/// id and a span id) and counts its spans, without building the message: the relay stores the bytes it received.
/// Protobuf is walked on the wire format (every field of the request, resource spans, scope spans and spans must be a
/// well-formed field); JSON must parse and have the OTLP/JSON shape with hex ids.
/// </summary>
internal static class OtlpRequestValidator
{
    private const int Varint = 0;
    private const int Fixed64 = 1;
    private const int LengthDelimited = 2;
    private const int Fixed32 = 5;

    /// <summary>Null when valid, with <paramref name="spans"/> counted; else why not.</summary>
    public static string? ValidateProtobuf(ReadOnlySpan<byte> message, out int spans)
    {
        spans = 0;
        var count = 0;
        var error = ForEachField(message, "ExportTraceServiceRequest", (int field, int wireType, ReadOnlySpan<byte> value) =>
            field == 1 ? Expect(wireType, "resource_spans") ?? ValidateResourceSpans(value, ref count) : null);
        spans = count;
        return error;
    }

    /// <summary>Null when valid, with <paramref name="spans"/> counted; else why not.</summary>
    public static string? ValidateJson(ReadOnlySpan<byte> json, out int spans)
    {
        spans = 0;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 128 });
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

            if (!root.TryGetProperty("resourceSpans", out var resourceSpans) || resourceSpans.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (resourceSpans.ValueKind != JsonValueKind.Array)
            {
                return "resourceSpans must be an array";
            }

            foreach (var resource in resourceSpans.EnumerateArray())
            {
                if (resource.ValueKind != JsonValueKind.Object)
                {
                    return "resourceSpans[] must be objects";
                }

                if (!resource.TryGetProperty("scopeSpans", out var scopeSpans) || scopeSpans.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (scopeSpans.ValueKind != JsonValueKind.Array)
                {
                    return "scopeSpans must be an array";
                }

                foreach (var scope in scopeSpans.EnumerateArray())
                {
                    if (scope.ValueKind != JsonValueKind.Object)
                    {
                        return "scopeSpans[] must be objects";
                    }

                    if (!scope.TryGetProperty("spans", out var spanArray) || spanArray.ValueKind == JsonValueKind.Null)
                    {
                        continue;
                    }

                    if (spanArray.ValueKind != JsonValueKind.Array)
                    {
                        return "spans must be an array";
                    }

                    foreach (var span in spanArray.EnumerateArray())
                    {
                        if (span.ValueKind != JsonValueKind.Object)
                        {
                            return "spans[] must be objects";
                        }

                        if ((HexIdError(span, "traceId", 32) ?? HexIdError(span, "spanId", 16)) is { } idError)
                        {
                            return string.Create(CultureInfo.InvariantCulture, $"span {spans}: {idError}");
                        }

                        spans++;
                    }
                }
            }
        }

        return null;
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

    private static string? ValidateResourceSpans(ReadOnlySpan<byte> message, ref int spans)
    {
        var count = spans;
        var error = ForEachField(message, "ResourceSpans", (int field, int wireType, ReadOnlySpan<byte> value) => field switch
        {
            1 => Expect(wireType, "resource") ?? ForEachField(value, "Resource", static (_, _, _) => null),
            2 => Expect(wireType, "scope_spans") ?? ValidateScopeSpans(value, ref count),
            _ => null,
        });
        spans = count;
        return error;
    }

    private static string? ValidateScopeSpans(ReadOnlySpan<byte> message, ref int spans)
    {
        var count = spans;
        var error = ForEachField(message, "ScopeSpans", (int field, int wireType, ReadOnlySpan<byte> value) =>
        {
            switch (field)
            {
                case 1:
                    return Expect(wireType, "scope") ?? ForEachField(value, "InstrumentationScope", static (_, _, _) => null);
                case 2:
                    if ((Expect(wireType, "spans") ?? ValidateSpan(value, count)) is { } spanError)
                    {
                        return spanError;
                    }

                    count++;
                    return null;
                default:
                    return null;
            }
        });
        spans = count;
        return error;
    }

    private static string? ValidateSpan(ReadOnlySpan<byte> message, int index)
    {
        var traceId = false;
        var spanId = false;
        var error = ForEachField(message, "Span", (int field, int wireType, ReadOnlySpan<byte> value) =>
        {
            switch (field)
            {
                case 1:
                    if (Expect(wireType, "trace_id") is { } e1)
                    {
                        return e1;
                    }

                    traceId = value.Length == 16 && value.ContainsAnyExcept((byte)0);
                    return null;
                case 2:
                    if (Expect(wireType, "span_id") is { } e2)
                    {
                        return e2;
                    }

                    spanId = value.Length == 8 && value.ContainsAnyExcept((byte)0);
                    return null;
                default:
                    return null;
            }
        });
        if (error is not null)
        {
            return error;
        }

        if (!traceId)
        {
            return string.Create(CultureInfo.InvariantCulture, $"span {index} has no valid traceId (16 bytes, not all zero)");
        }

        return spanId ? null : string.Create(CultureInfo.InvariantCulture, $"span {index} has no valid spanId (8 bytes, not all zero)");
    }

    private static string? Expect(int wireType, string field) =>
        wireType == LengthDelimited ? null : $"field {field} has wire type {wireType}, expected length-delimited";

    private delegate string? FieldVisitor(int field, int wireType, ReadOnlySpan<byte> value);

    /// <summary>Walks every field of a message; null when all are well-formed and the visitor found nothing wrong.</summary>
    private static string? ForEachField(ReadOnlySpan<byte> message, string name, FieldVisitor visit)
    {
        var position = 0;
        while (position < message.Length)
        {
            if (!TryReadVarint(message, ref position, out var tag))
            {
                return $"{name}: truncated field tag";
            }

            var field = tag >> 3;
            var wireType = (int)(tag & 7);
            if (field is 0 or > 536_870_911)
            {
                return $"{name}: invalid field number";
            }

            ReadOnlySpan<byte> value;
            switch (wireType)
            {
                case Varint:
                    var start = position;
                    if (!TryReadVarint(message, ref position, out _))
                    {
                        return $"{name}: truncated varint";
                    }

                    value = message[start..position];
                    break;
                case Fixed64 or Fixed32:
                    var size = wireType == Fixed64 ? 8 : 4;
                    if (message.Length - position < size)
                    {
                        return $"{name}: truncated fixed-size field";
                    }

                    value = message.Slice(position, size);
                    position += size;
                    break;
                case LengthDelimited:
                    if (!TryReadVarint(message, ref position, out var length) || length > (ulong)(message.Length - position))
                    {
                        return $"{name}: length-delimited field runs past the end of the message";
                    }

                    value = message.Slice(position, (int)length);
                    position += (int)length;
                    break;
                default:
                    return string.Create(CultureInfo.InvariantCulture, $"{name}: unsupported wire type {wireType}");
            }

            if (visit((int)field, wireType, value) is { } error)
            {
                return error;
            }
        }

        return null;
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
