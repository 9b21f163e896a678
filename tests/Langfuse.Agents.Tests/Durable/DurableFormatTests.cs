using System.Text;
using Langfuse.Agents.Internal.Durable;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

public sealed class DurableFormatTests
{
    [Fact]
    public void Crc32C_MatchesTheCastagnoliCheckValue()
    {
        Crc32C.Compute("123456789"u8).ShouldBe(0xE3069283u);
        Crc32C.Compute([]).ShouldBe(0u);
    }

    [Fact]
    public void Crc32C_AgreesWithABitwiseReference_ForEveryLengthAndAlignment()
    {
        var data = Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog, twice over.");
        for (var start = 0; start < 8; start++)
        {
            for (var length = 0; start + length <= data.Length; length++)
            {
                var slice = data.AsSpan(start, length);
                Crc32C.Compute(slice).ShouldBe(Reference(slice));
            }
        }
    }

    [Fact]
    public void Decode_OfEverySingleByteDamageOrTruncation_NeverThrows_AndNeverReturnsADamagedRecord()
    {
        var random = new Random(20260101);
        var records = DurableTestRecords.Records(0, 5, DurableTestRecords.Now, payloadBytes: 300);
        var segment = DurableFormat.EncodeSegment(records);
        var total = records.Sum(r => (long)r.ItemCount);

        for (var iteration = 0; iteration < 400; iteration++)
        {
            var damaged = (byte[])segment.Clone();
            if (iteration % 4 == 0)
            {
                Array.Resize(ref damaged, random.Next(0, segment.Length));
            }
            else
            {
                damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
            }

            var contents = DurableFormat.Decode(damaged);

            // Every record returned is one of the originals, intact, in order.
            var next = 0;
            foreach (var record in contents.Records)
            {
                var index = DurableTestRecords.IndexOf(record);
                index.ShouldBeGreaterThanOrEqualTo(next);
                record.ShouldMatch(records[index]);
                next = index + 1;
            }

            if (contents.HeaderIntact)
            {
                (contents.Items + contents.LostItems).ShouldBe(total, "with an intact header, every item is either read or counted lost");
            }
            else
            {
                (contents.Records.Count + contents.LostRecords).ShouldBeGreaterThan(0);
            }
        }
    }

    [Fact]
    public void Decode_OfTheSegmentAsWritten_ReadsEveryRecordAndLosesNothing()
    {
        var records = DurableTestRecords.Records(0, 4, DurableTestRecords.Now, payloadBytes: 50);

        var contents = DurableFormat.Decode(DurableFormat.EncodeSegment(records));

        contents.Records.ShouldMatch(records);
        contents.LostRecords.ShouldBe(0);
        contents.HeaderIntact.ShouldBeTrue();
    }

    private static uint Reference(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}
