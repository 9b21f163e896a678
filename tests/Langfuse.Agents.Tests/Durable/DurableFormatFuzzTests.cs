using System.Buffers.Binary;
using CsCheck;
using Langfuse.Agents.Internal.Durable;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// Property-based fuzzing of segment and record reading (bounded for CI; the long run is the SharpFuzz target in
/// bench/Langfuse.Agents.Fuzz): random bytes, truncations, bit flips and splices of valid segments never make the
/// reader throw, never make it allocate beyond a small multiple of the input, never return a record that was not
/// written intact, and always count what they damaged.
/// </summary>
public sealed class DurableFormatFuzzTests
{
    private static readonly DurableRecord[] Originals = DurableTestRecords.Records(0, 6, DurableTestRecords.Now, payloadBytes: 120);
    private static readonly byte[] Valid = DurableFormat.EncodeSegment(Originals);
    private static readonly long TotalItems = Originals.Sum(r => (long)r.ItemCount);

    [Fact]
    public void RandomBytes_NeverThrow_AndAllocateBoundedly()
    {
        Gen.Byte.Array[0, 4096].Sample(
            static bytes =>
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                var contents = DurableFormat.Decode(bytes);
                _ = DurableFormat.TryReadSegmentHeader(bytes, out _);
                var limit = DurableFormat.ReadLimit(bytes, bytes.Length);
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

                allocated.ShouldBeLessThan((8L * bytes.Length) + 16_384, "payloads are slices of the input, never copies");
                limit.ShouldBeInRange(0, bytes.Length);
                contents.Records.Count.ShouldBeLessThanOrEqualTo(bytes.Length / (DurableFormat.RecordHeaderSize + DurableFormat.RecordTrailerSize + 17) + 1);
                (contents.Records.Count + contents.LostRecords).ShouldBeGreaterThan(0, "nothing readable still counts as a loss");
            },
            iter: 3000);
    }

    [Fact]
    public void DamagedValidSegments_ReturnOnlyIntactOriginals_InOrder_AndCountTheRest()
    {
        var damage = Gen.Select(
            Gen.Int[0, 3],
            Gen.Int[0, Valid.Length],
            Gen.Select(Gen.Int[0, Valid.Length - 1], Gen.Int[0, 7]).Array[1, 6],
            Gen.Byte.Array[0, 64],
            static (mode, cut, flips, splice) => (mode, cut, flips, splice));
        damage.Sample(
            static d =>
            {
                var bytes = d.mode switch
                {
                    0 => Valid[..d.cut], // truncated
                    1 => Flip(Valid, d.flips), // bit flips
                    2 => [.. Valid[..d.cut], .. d.splice, .. Valid[d.cut..]], // bytes inserted
                    _ => [.. d.splice, .. Valid], // garbage before the header
                };

                var contents = DurableFormat.Decode(bytes);

                var next = 0;
                foreach (var record in contents.Records)
                {
                    var index = DurableTestRecords.IndexOf(record);
                    index.ShouldBeGreaterThanOrEqualTo(next, "in order, each once");
                    record.ShouldMatch(Originals[index]);
                    next = index + 1;
                }

                if (contents.HeaderIntact)
                {
                    (contents.Items + contents.LostItems).ShouldBe(TotalItems, "with an intact header every item is read or counted lost");
                }

                if (contents.Records.Count < Originals.Length)
                {
                    contents.LostRecords.ShouldBeGreaterThan(0, "a missing record is always counted");
                }
            },
            iter: 3000);
    }

    [Fact]
    public void ReadLimit_NeverExceedsTheRealSize_NorTheDeclaredOne()
    {
        Gen.Select(Gen.Long[0, 1L << 40], Gen.Long[-10, 1L << 40]).Sample(
            static x =>
            {
                var (real, declared) = x;
                var header = (byte[])Valid[..DurableFormat.SegmentHeaderSize].Clone();
                BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(36), declared);
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(44), Crc32C.Compute(header.AsSpan(0, 44)));

                var limit = DurableFormat.ReadLimit(header, real);

                limit.ShouldBeLessThanOrEqualTo(real);
                if (DurableFormat.TryReadSegmentHeader(header, out var parsed))
                {
                    limit.ShouldBe(Math.Min(parsed.DeclaredBytes!.Value, real));
                    parsed.DeclaredBytes.Value.ShouldBeInRange(DurableFormat.SegmentHeaderSize, DurableFormat.MaxSegmentBytes);
                }
                else
                {
                    limit.ShouldBe(real, "an implausible declared size is a damaged header: the file's size bounds the read");
                }
            },
            iter: 2000);
    }

    [Fact]
    public void Version1Segments_AreStillRead()
    {
        var v1 = new byte[DurableFormat.Version1HeaderSize];
        Valid.AsSpan(0, 36).CopyTo(v1);
        v1[4] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(v1.AsSpan(36), Crc32C.Compute(v1.AsSpan(0, 36)));
        byte[] segment = [.. v1, .. Valid[DurableFormat.SegmentHeaderSize..]];

        var contents = DurableFormat.Decode(segment);

        contents.HeaderIntact.ShouldBeTrue();
        contents.Records.ShouldMatch(Originals);
        contents.LostRecords.ShouldBe(0);
    }

    [Fact]
    public void HostileFilesUnderSegmentNames_AreDrainedWithoutErrors_AndTheirDamageIsCounted()
    {
        var file = Gen.Select(Gen.Int[0, 2], Gen.Byte.Array[0, 512], Gen.Int[0, Valid.Length], static (mode, noise, cut) => mode switch
        {
            0 => noise,
            1 => Valid[..cut],
            _ => (byte[])[.. Valid[..cut], .. noise],
        });
        file.Array[1, 4].Sample(
            static contents =>
            {
                using var dir = new DurableTestDirectory();
                Directory.CreateDirectory(dir.Path);
                for (var i = 0; i < contents.Length; i++)
                {
                    File.WriteAllBytes(dir.File($"{DurableTestRecords.Now.UtcTicks + i:D19}-0000000001-{i:D10}.lfq"), contents[i]);
                }

                var drops = new DropCounter();
                var returned = new List<int>();
                using (var queue = new DurableQueue(new DurableQueueOptions { Directory = dir.Path, Retention = TimeSpan.MaxValue / 4 }, drops.Callback))
                {
                    while (queue.TryTakeOldest(out var segment))
                    {
                        foreach (var record in segment!.Records)
                        {
                            var index = DurableTestRecords.IndexOf(record);
                            record.ShouldMatch(Originals[index]);
                            returned.Add(index);
                        }

                        queue.Complete(segment);
                    }
                }

                dir.Segments().ShouldBeEmpty("every file is either delivered or, with nothing readable, deleted and counted");
                var expected = contents.Sum(c => DurableFormat.Decode(c).Records.Count);
                returned.Count.ShouldBe(expected);
                if (contents.Any(c => DurableFormat.Decode(c).LostRecords > 0))
                {
                    drops.Items(DropReason.Corrupt).ShouldBeGreaterThan(0);
                }
            },
            iter: 40,
            threads: 1);
    }

    private static byte[] Flip(byte[] source, (int Position, int Bit)[] flips)
    {
        var copy = (byte[])source.Clone();
        foreach (var (position, bit) in flips)
        {
            copy[position] ^= (byte)(1 << bit);
        }

        return copy;
    }
}
