using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// The on-disk format of one segment file (all integers little-endian):
/// <code>
/// segment header, 48 bytes (version 2):
///   0  "LFQS"            magic
///   4  u8  version (2)   then 3 reserved zero bytes
///   8  i32 record count
///  12  i64 item count
///  20  i64 oldest record CreatedAt, UTC ticks
///  28  i64 newest record CreatedAt, UTC ticks
///  36  i64 the segment's size in bytes, header included
///  44  u32 CRC-32C of bytes 0..43
/// (version 1, still read: 40 bytes, no size, the CRC-32C of bytes 0..35 at 36)
/// records, one after another:
///   0  "LFQR"            magic (what a reader resynchronises on after damage)
///   4  i32 body length N
///   8  i32 item count
///  12  u32 CRC-32C of bytes 0..11 (so the length and item count can be trusted before the body is)
///  16  body, N bytes:
///        u8  kind (PayloadKind)
///        i64 CreatedAt, UTC ticks
///        i32 content type length in UTF-8 bytes, -1 for null; the bytes
///        i32 content encoding length, -1 for null; the bytes
///        the payload (the rest of the body)
///  16+N u32 CRC-32C of the body
/// </code>
/// The segment header lets the queue know a segment's counts, ages and size by reading 48 bytes (so a reader never reads
/// more than the writer wrote, and a torn or grown file shows without reading it); each record carries its own length
/// and checksums so a damaged record is skipped and the ones after it are still read.
/// </summary>
internal static class DurableFormat
{
    /// <summary>The header this version writes (version 2).</summary>
    public const int SegmentHeaderSize = 48;

    /// <summary>The header of version 1 segments, still read.</summary>
    public const int Version1HeaderSize = 40;

    public const int RecordHeaderSize = 16;
    public const int RecordTrailerSize = 4;
    public const byte Version = 2;

    /// <summary>No segment is larger: it is read into one array.</summary>
    public const long MaxSegmentBytes = 0x7FFFFFC7; // Array.MaxLength

    private const uint SegmentMagic = 0x5351464C; // "LFQS"
    private const uint RecordMagic = 0x5251464C; // "LFQR"
    private const int MinBodySize = 1 + 8 + 4 + 4;

    /// <summary>Serialises records into one complete segment file.</summary>
    public static byte[] EncodeSegment(IReadOnlyList<DurableRecord> records)
    {
        long total = SegmentHeaderSize;
        var contentTypes = new byte[]?[records.Count];
        var encodings = new byte[]?[records.Count];
        long items = 0;
        long oldest = long.MaxValue;
        long newest = long.MinValue;
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            contentTypes[i] = record.ContentType is null ? null : Encoding.UTF8.GetBytes(record.ContentType);
            encodings[i] = record.ContentEncoding is null ? null : Encoding.UTF8.GetBytes(record.ContentEncoding);
            total += RecordHeaderSize + BodySize(record, contentTypes[i], encodings[i]) + RecordTrailerSize;
            items += record.ItemCount;
            oldest = Math.Min(oldest, record.CreatedAt.UtcTicks);
            newest = Math.Max(newest, record.CreatedAt.UtcTicks);
        }

        if (total > MaxSegmentBytes)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"A segment of {total} bytes is too large."));
        }

        var buffer = new byte[total];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, SegmentMagic);
        span[4] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], records.Count);
        BinaryPrimitives.WriteInt64LittleEndian(span[12..], items);
        BinaryPrimitives.WriteInt64LittleEndian(span[20..], records.Count == 0 ? 0 : oldest);
        BinaryPrimitives.WriteInt64LittleEndian(span[28..], records.Count == 0 ? 0 : newest);
        BinaryPrimitives.WriteInt64LittleEndian(span[36..], total);
        BinaryPrimitives.WriteUInt32LittleEndian(span[44..], Crc32C.Compute(span[..44]));

        var position = SegmentHeaderSize;
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var bodySize = BodySize(record, contentTypes[i], encodings[i]);
            var header = span.Slice(position, RecordHeaderSize);
            BinaryPrimitives.WriteUInt32LittleEndian(header, RecordMagic);
            BinaryPrimitives.WriteInt32LittleEndian(header[4..], bodySize);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], record.ItemCount);
            BinaryPrimitives.WriteUInt32LittleEndian(header[12..], Crc32C.Compute(header[..12]));
            position += RecordHeaderSize;

            var body = span.Slice(position, bodySize);
            body[0] = (byte)record.Kind;
            BinaryPrimitives.WriteInt64LittleEndian(body[1..], record.CreatedAt.UtcTicks);
            var at = 9;
            at = WriteText(body, at, contentTypes[i]);
            at = WriteText(body, at, encodings[i]);
            record.Payload.Span.CopyTo(body[at..]);
            position += bodySize;

            BinaryPrimitives.WriteUInt32LittleEndian(span[position..], Crc32C.Compute(body));
            position += RecordTrailerSize;
        }

        return buffer;
    }

    /// <summary>Reads a segment header (version 2, or 1); false when it is missing or damaged.</summary>
    public static bool TryReadSegmentHeader(ReadOnlySpan<byte> data, out SegmentHeader header)
    {
        header = default;
        if (data.Length < Version1HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(data) != SegmentMagic)
        {
            return false;
        }

        int size;
        long? declared = null;
        switch (data[4])
        {
            case 1 when BinaryPrimitives.ReadUInt32LittleEndian(data[36..]) == Crc32C.Compute(data[..36]):
                size = Version1HeaderSize;
                break;
            case 2 when data.Length >= SegmentHeaderSize && BinaryPrimitives.ReadUInt32LittleEndian(data[44..]) == Crc32C.Compute(data[..44]):
                size = SegmentHeaderSize;
                declared = BinaryPrimitives.ReadInt64LittleEndian(data[36..]);
                if (declared < SegmentHeaderSize || declared > MaxSegmentBytes)
                {
                    return false;
                }

                break;
            default:
                return false;
        }

        var records = BinaryPrimitives.ReadInt32LittleEndian(data[8..]);
        var items = BinaryPrimitives.ReadInt64LittleEndian(data[12..]);
        var oldest = BinaryPrimitives.ReadInt64LittleEndian(data[20..]);
        var newest = BinaryPrimitives.ReadInt64LittleEndian(data[28..]);
        if (records < 0 || items < 0 || !IsValidTicks(oldest) || !IsValidTicks(newest))
        {
            return false;
        }

        header = new SegmentHeader(records, items, oldest, newest, size, declared);
        return true;
    }

    /// <summary>
    /// How many bytes of a file to read, given its first bytes and its real size: the size its header declares when
    /// that is smaller (whatever was added after the segment is not the queue's), else the real size.
    /// </summary>
    public static long ReadLimit(ReadOnlySpan<byte> prefix, long realSize) =>
        TryReadSegmentHeader(prefix, out var header) && header.DeclaredBytes is { } declared ? Math.Min(declared, realSize) : realSize;

    /// <summary>
    /// Reads every valid record of a segment file. Damage never stops the read: after a damaged record the reader
    /// scans forward for the next record magic whose header checksum and body checksum both validate.
    /// <para>
    /// What is lost is counted this way. When the segment header is intact, it says how many records and items the
    /// file held, so the loss is exactly the difference from what was read. When the segment header is itself
    /// damaged, each skipped record whose own header is still readable counts its items, and each stretch of
    /// unreadable bytes counts as one record of one item (its real count is unknown; one keeps the loss visible
    /// without inventing a number); a file with nothing readable at all (zero-length, garbage) counts one record of
    /// one item.
    /// </para>
    /// </summary>
    /// <param name="data">The whole file. Payloads of the returned records are slices of it, not copies.</param>
    public static SegmentContents Decode(byte[] data)
    {
        var valid = new List<DurableRecord>();
        var hasHeader = TryReadSegmentHeader(data, out var header);
        var position = hasHeader ? header.HeaderSize : 0;
        var length = hasHeader && header.DeclaredBytes is { } declared ? (int)Math.Min(declared, data.Length) : data.Length;
        long validItems = 0;
        long lostRecords = 0;
        long lostItems = 0;
        var inDamage = false; // inside bytes that are not a valid record
        var damageCounted = false; // ... and that stretch is already counted (by a readable record header)
        var leadingGarbage = !hasHeader; // a damaged segment header is not a lost record

        while (position < length)
        {
            if (TryReadRecordHeader(data, position, length, out var bodyLength, out var itemCount))
            {
                var end = (long)position + RecordHeaderSize + bodyLength + RecordTrailerSize;
                if (end <= length && TryReadBody(data, position + RecordHeaderSize, bodyLength, itemCount, out var record))
                {
                    // Leading garbage no longer than a header is the damaged header itself; longer, it hid a record too.
                    if (inDamage && !damageCounted && (!leadingGarbage || position > SegmentHeaderSize))
                    {
                        lostRecords++;
                        lostItems++;
                    }

                    inDamage = false;
                    damageCounted = false;
                    leadingGarbage = false;
                    valid.Add(record);
                    validItems += record.ItemCount;
                    position = (int)end;
                    continue;
                }

                // The header is intact but the body is damaged or cut short: count its items, and attribute the
                // bytes up to the next valid record to it.
                lostRecords++;
                lostItems += Math.Max(itemCount, 0);
                inDamage = true;
                damageCounted = true;
                leadingGarbage = false;
                position = end <= length ? (int)end : position + 1;
                continue;
            }

            inDamage = true;
            position++;
        }

        if (inDamage && !damageCounted && !leadingGarbage)
        {
            lostRecords++;
            lostItems++;
        }

        if (hasHeader)
        {
            lostRecords = Math.Max(0, header.Records - valid.Count);
            lostItems = Math.Max(0, header.Items - validItems);
        }
        else if (valid.Count == 0 && lostRecords == 0)
        {
            lostRecords = 1;
            lostItems = 1;
        }

        return new SegmentContents(valid, validItems, lostRecords, lostItems, hasHeader);
    }

    private static bool TryReadRecordHeader(byte[] data, int position, int length, out int bodyLength, out int itemCount)
    {
        bodyLength = 0;
        itemCount = 0;
        if (length - position < RecordHeaderSize)
        {
            return false;
        }

        var header = data.AsSpan(position, RecordHeaderSize);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != RecordMagic ||
            BinaryPrimitives.ReadUInt32LittleEndian(header[12..]) != Crc32C.Compute(header[..12]))
        {
            return false;
        }

        bodyLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        itemCount = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        return bodyLength >= MinBodySize && itemCount >= 0;
    }

    private static bool TryReadBody(byte[] data, int position, int length, int itemCount, out DurableRecord record)
    {
        record = null!;
        var body = data.AsSpan(position, length);
        if (BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(position + length)) != Crc32C.Compute(body))
        {
            return false;
        }

        var kind = (PayloadKind)body[0];
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(body[1..]);
        if (kind is not (PayloadKind.OtlpTraces or PayloadKind.IngestionBatch) || !IsValidTicks(ticks))
        {
            return false;
        }

        var at = 9;
        if (!TryReadText(body, ref at, out var contentType) || !TryReadText(body, ref at, out var contentEncoding))
        {
            return false;
        }

        record = new DurableRecord(
            kind,
            itemCount,
            new DateTimeOffset(ticks, TimeSpan.Zero),
            data.AsMemory(position + at, length - at),
            contentType,
            contentEncoding);
        return true;
    }

    private static int BodySize(DurableRecord record, byte[]? contentType, byte[]? encoding)
    {
        var size = (long)MinBodySize + (contentType?.Length ?? 0) + (encoding?.Length ?? 0) + record.Payload.Length;
        if (size > int.MaxValue - RecordHeaderSize - RecordTrailerSize)
        {
            throw new InvalidOperationException("A record is too large for the durable queue.");
        }

        return (int)size;
    }

    private static int WriteText(Span<byte> body, int at, byte[]? text)
    {
        BinaryPrimitives.WriteInt32LittleEndian(body[at..], text?.Length ?? -1);
        at += 4;
        if (text is not null)
        {
            text.CopyTo(body[at..]);
            at += text.Length;
        }

        return at;
    }

    private static bool TryReadText(ReadOnlySpan<byte> body, ref int at, out string? text)
    {
        text = null;
        if (body.Length - at < 4)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(body[at..]);
        at += 4;
        if (length == -1)
        {
            return true;
        }

        if (length < 0 || length > body.Length - at)
        {
            return false;
        }

        text = Encoding.UTF8.GetString(body.Slice(at, length));
        at += length;
        return true;
    }

    private static bool IsValidTicks(long ticks) => ticks >= 0 && ticks <= DateTimeOffset.MaxValue.UtcTicks;
}
