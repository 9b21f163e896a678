namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Just enough of the protobuf wire format to merge and split OTLP <c>ExportTraceServiceRequest</c> bodies from their
/// original bytes: list a message's fields, and rebuild it with one repeated field replaced. Two requests concatenated
/// are one valid request (repeated fields append), which is how records merge. Never throws for malformed input: it
/// reports it.
/// </summary>
internal static class ProtoSlices
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    /// <summary>Lists the fields of <paramref name="message"/> in order. False when it is not a well-formed message.</summary>
    public static bool TryReadFields(ReadOnlySpan<byte> message, List<ProtoField> fields)
    {
        var position = 0;
        while (position < message.Length)
        {
            var start = position;
            if (!TryReadVarint(message, ref position, out var tag) || tag >> 3 is 0 or > int.MaxValue)
            {
                return false;
            }

            var number = (int)(tag >> 3);
            var wireType = (int)(tag & 7);
            int payloadStart, payloadLength;
            switch (wireType)
            {
                case WireVarint:
                    payloadStart = position;
                    if (!TryReadVarint(message, ref position, out _))
                    {
                        return false;
                    }

                    payloadLength = position - payloadStart;
                    break;
                case WireFixed64:
                case WireFixed32:
                    payloadStart = position;
                    payloadLength = wireType == WireFixed64 ? 8 : 4;
                    if (message.Length - position < payloadLength)
                    {
                        return false;
                    }

                    position += payloadLength;
                    break;
                case WireLengthDelimited:
                    if (!TryReadVarint(message, ref position, out var length) || length > (ulong)(message.Length - position))
                    {
                        return false;
                    }

                    payloadStart = position;
                    payloadLength = (int)length;
                    position += payloadLength;
                    break;
                default:
                    return false; // groups (3, 4) are not used by OTLP; anything else is not protobuf
            }

            fields.Add(new ProtoField(number, wireType, start, position - start, payloadStart, payloadLength));
        }

        return true;
    }

    /// <summary>
    /// <paramref name="message"/> without its occurrences of field <paramref name="number"/>, followed by one
    /// length-delimited occurrence per element: the same message with that repeated field's elements replaced.
    /// </summary>
    public static byte[] ReplaceRepeated(ReadOnlySpan<byte> message, IReadOnlyList<ProtoField> fields, int number, IReadOnlyList<ReadOnlyMemory<byte>> elements)
    {
        var size = 0;
        foreach (var field in fields)
        {
            size += field.Number == number ? 0 : field.Length;
        }

        var tag = ((ulong)number << 3) | WireLengthDelimited;
        foreach (var element in elements)
        {
            size += VarintSize(tag) + VarintSize((ulong)element.Length) + element.Length;
        }

        var result = new byte[size];
        var position = 0;
        foreach (var field in fields)
        {
            if (field.Number != number)
            {
                message.Slice(field.Start, field.Length).CopyTo(result.AsSpan(position));
                position += field.Length;
            }
        }

        foreach (var element in elements)
        {
            position += WriteVarint(result.AsSpan(position), tag);
            position += WriteVarint(result.AsSpan(position), (ulong)element.Length);
            element.Span.CopyTo(result.AsSpan(position));
            position += element.Length;
        }

        return result;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> data, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length)
            {
                return false;
            }

            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    private static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private static int WriteVarint(Span<byte> target, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            target[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        target[i++] = (byte)value;
        return i;
    }

    /// <summary>One field of a message: its number and wire type, where it is (tag included), and where its payload is.</summary>
    internal readonly record struct ProtoField(int Number, int WireType, int Start, int Length, int PayloadStart, int PayloadLength)
    {
        public bool IsLengthDelimited => WireType == WireLengthDelimited;
    }
}
