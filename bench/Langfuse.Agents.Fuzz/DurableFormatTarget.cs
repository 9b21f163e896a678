using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Fuzz;

/// <summary>
/// Segment and record reading (<see cref="DurableFormat"/>): what the durable queue does with any file that carries a
/// segment name. Any input must decode without an exception, with allocations bounded by the input, with every
/// returned record inside the input, and with a loss counted whenever nothing is readable.
/// </summary>
internal sealed class DurableFormatTarget : IFuzzTarget
{
    public string Name => "durable-format";

    public void Run(ReadOnlySpan<byte> input)
    {
        var data = input.ToArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var contents = DurableFormat.Decode(data);
        _ = DurableFormat.TryReadSegmentHeader(data, out _);
        var limit = DurableFormat.ReadLimit(data, data.Length);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Check(allocated < (8L * data.Length) + 16_384, $"allocated {allocated} bytes for {data.Length} bytes of input");
        Check(limit >= 0 && limit <= data.Length, $"read limit {limit} outside 0..{data.Length}");
        Check(contents.Records.Count + contents.LostRecords > 0, "nothing read and nothing counted lost");
        foreach (var record in contents.Records)
        {
            Check(record.ItemCount >= 0, "negative item count");
            Check(record.Payload.Length <= data.Length, "a payload larger than the input");
        }

        if (contents.Records.Count > 0)
        {
            // A decoded segment re-encodes and decodes to the same records: nothing was misread.
            var again = DurableFormat.Decode(DurableFormat.EncodeSegment(contents.Records));
            Check(again.LostRecords == 0 && again.Records.Count == contents.Records.Count, "re-encoding lost records");
            for (var i = 0; i < again.Records.Count; i++)
            {
                Check(again.Records[i].Payload.Span.SequenceEqual(contents.Records[i].Payload.Span), "re-encoding changed a payload");
            }
        }
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("durable-format invariant broken: " + what);
        }
    }
}
