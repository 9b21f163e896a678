using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Langfuse.Agents.Internal.Export;

/// <summary>
/// A minimal protobuf writer over a growable buffer rented from <see cref="ArrayPool{T}"/>. Nested messages get
/// a fixed 4-byte (padded varint) length prefix that is patched once the message is written, so nothing is
/// measured or copied twice; protobuf parsers accept non-minimal varints (OpenTelemetry .NET does the same).
/// </summary>
/// <remarks>
/// Not thread-safe. <see cref="WrittenSpan"/> and <see cref="WrittenMemory"/> stay valid until the next
/// <see cref="Reset"/>, <see cref="Truncate"/> or write. Allocation-free once the buffer has grown to its working size.
/// </remarks>
internal sealed class ProtobufWriter : IDisposable
{
    public const int WireTypeVarint = 0;
    public const int WireTypeFixed64 = 1;
    public const int WireTypeLengthDelimited = 2;
    public const int WireTypeFixed32 = 5;

    /// <summary>The largest nested message a 4-byte varint prefix can describe (2^28 - 1 bytes).</summary>
    public const int MaxNestedLength = (1 << 28) - 1;

    private const int ReservedLengthBytes = 4;

    // Strings up to this many UTF-16 chars encode to at most 127 UTF-8 bytes: a one-byte length prefix.
    private const int ShortStringChars = 127 / 3;

    private byte[] _buffer;
    private int _position;

    public ProtobufWriter(int initialCapacity = 16 * 1024)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 64));
    }

    /// <summary>Bytes written since the last <see cref="Reset"/>.</summary>
    public int Length => _position;

    /// <summary>Size of the current buffer.</summary>
    public int Capacity => _buffer.Length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _position);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _position);

    /// <summary>Starts over, keeping the buffer.</summary>
    public void Reset() => _position = 0;

    /// <summary>Drops everything written after <paramref name="length"/> (a value of <see cref="Length"/> taken earlier).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _position);
        _position = length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteTag(int fieldNumber, int wireType) => WriteVarint((uint)((fieldNumber << 3) | wireType));

    public void WriteVarint(ulong value)
    {
        EnsureCapacity(10);
        var buffer = _buffer;
        var position = _position;
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[position++] = (byte)value;
        _position = position;
    }

    public void WriteVarintField(int fieldNumber, ulong value)
    {
        WriteTag(fieldNumber, WireTypeVarint);
        WriteVarint(value);
    }

    /// <summary>An <c>int64</c>/<c>int32</c> field: negative values take ten bytes (two's complement), as protobuf specifies.</summary>
    public void WriteInt64Field(int fieldNumber, long value) => WriteVarintField(fieldNumber, (ulong)value);

    public void WriteBoolField(int fieldNumber, bool value)
    {
        WriteTag(fieldNumber, WireTypeVarint);
        EnsureCapacity(1);
        _buffer[_position++] = value ? (byte)1 : (byte)0;
    }

    public void WriteFixed32Field(int fieldNumber, uint value)
    {
        WriteTag(fieldNumber, WireTypeFixed32);
        EnsureCapacity(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_position, 4), value);
        _position += 4;
    }

    public void WriteFixed64Field(int fieldNumber, ulong value)
    {
        WriteTag(fieldNumber, WireTypeFixed64);
        EnsureCapacity(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_position, 8), value);
        _position += 8;
    }

    public void WriteDoubleField(int fieldNumber, double value) => WriteFixed64Field(fieldNumber, BitConverter.DoubleToUInt64Bits(value));

    /// <summary>A <c>bytes</c> field, or a <c>string</c> field whose value is already UTF-8.</summary>
    public void WriteBytesField(int fieldNumber, ReadOnlySpan<byte> value)
    {
        WriteTag(fieldNumber, WireTypeLengthDelimited);
        WriteVarint((uint)value.Length);
        WriteRaw(value);
    }

    /// <summary>A <c>string</c> field, transcoded to UTF-8 straight into the buffer (lone surrogates become U+FFFD).</summary>
    public void WriteStringField(int fieldNumber, ReadOnlySpan<char> value)
    {
        WriteTag(fieldNumber, WireTypeLengthDelimited);
        if (value.Length <= ShortStringChars)
        {
            // At most 3 bytes per UTF-16 char, so the length fits one byte: write first, then patch it.
            EnsureCapacity(1 + (value.Length * 3));
            var written = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_position + 1));
            _buffer[_position] = (byte)written;
            _position += 1 + written;
        }
        else
        {
            var byteCount = Encoding.UTF8.GetByteCount(value);
            WriteVarint((uint)byteCount);
            EnsureCapacity(byteCount);
            _position += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_position, byteCount));
        }
    }

    /// <summary>Copies already-encoded protobuf bytes (for example a pre-encoded field).</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        EnsureCapacity(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_position));
        _position += bytes.Length;
    }

    /// <summary>
    /// Writes the tag of a nested message (or any length-delimited field) and reserves its 4-byte length.
    /// Pass the returned bookmark to <see cref="EndLengthDelimited"/> once its content is written.
    /// </summary>
    public int BeginLengthDelimited(int fieldNumber)
    {
        WriteTag(fieldNumber, WireTypeLengthDelimited);
        EnsureCapacity(ReservedLengthBytes);
        var bookmark = _position;
        _position += ReservedLengthBytes;
        return bookmark;
    }

    /// <summary>Patches the length reserved by <see cref="BeginLengthDelimited"/> as a padded 4-byte varint.</summary>
    public void EndLengthDelimited(int bookmark)
    {
        var length = _position - bookmark - ReservedLengthBytes;
        if ((uint)length > MaxNestedLength)
        {
            throw new InvalidOperationException($"A nested protobuf message of {length} bytes exceeds the {MaxNestedLength}-byte limit of a 4-byte length prefix.");
        }

        var prefix = _buffer.AsSpan(bookmark, ReservedLengthBytes);
        prefix[0] = (byte)(length | 0x80);
        prefix[1] = (byte)((length >> 7) | 0x80);
        prefix[2] = (byte)((length >> 14) | 0x80);
        prefix[3] = (byte)(length >> 21);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _position = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureCapacity(int additional)
    {
        if ((uint)additional > (uint)(_buffer.Length - _position))
        {
            Grow(additional);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int additional)
    {
        var required = (long)_position + additional;
        if (required > Array.MaxLength)
        {
            throw new InvalidOperationException($"A protobuf message of {required} bytes is too large.");
        }

        var newSize = (int)Math.Min(Math.Max(required, Math.Max(256L, _buffer.Length * 2L)), Array.MaxLength);
        var newBuffer = ArrayPool<byte>.Shared.Rent(newSize);
        _buffer.AsSpan(0, _position).CopyTo(newBuffer);
        var old = _buffer;
        _buffer = newBuffer;
        if (old.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(old);
        }
    }
}
