using System.Globalization;
using System.Text;
using Langfuse.Agents.Internal.Durable;

// append <dir> <count> <seed> [first-index]: appends records 0..count-1 (plus first-index) in batches of 1-4, printing
//   "acked <index>" right after each Append returned Stored. Payloads: see Payload (the tests compute the same bytes).
// replay <dir>: prints "holder" once it holds the replay lock, then "took <index>" for every record it replays
//   (completing each segment); polls until a line (or end of input) arrives on stdin, then exits.
var invariant = CultureInfo.InvariantCulture;
var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
switch (args)
{
    case ["append", var dir, var countText, var seedText, .. var rest]:
    {
        var count = int.Parse(countText, invariant);
        var first = rest.Length > 0 ? int.Parse(rest[0], invariant) : 0;
        var random = new Random(int.Parse(seedText, invariant));
        using var queue = new DurableQueue(new DurableQueueOptions { Directory = dir });
        stdout.WriteLine(queue.IsAvailable ? "ready" : "unavailable");
        for (var index = first; index < first + count;)
        {
            var batch = new List<DurableRecord>();
            for (var n = random.Next(1, 5); n > 0 && index < first + count; n--, index++)
            {
                batch.Add(Record(index));
            }

            var outcome = queue.Append(batch);
            foreach (var record in batch)
            {
                stdout.WriteLine(outcome == AppendOutcome.Stored ? $"acked {IndexOf(record)}" : $"failed {IndexOf(record)} {outcome}");
            }
        }

        stdout.WriteLine("done");
        return 0;
    }

    case ["replay", var dir]:
    {
        using var queue = new DurableQueue(new DurableQueueOptions { Directory = dir });
        var stop = new CancellationTokenSource();
        var stdin = new Thread(() =>
        {
            Console.In.ReadLine();
            stop.Cancel();
        }) { IsBackground = true };
        stdin.Start();
        var announced = false;
        stdout.WriteLine("ready");
        while (!stop.IsCancellationRequested)
        {
            if (queue.TryTakeOldest(out var segment) && segment is not null)
            {
                foreach (var record in segment.Records)
                {
                    stdout.WriteLine(Payload(IndexOf(record)).AsSpan().SequenceEqual(record.Payload.Span) ? $"took {IndexOf(record)}" : $"damaged {IndexOf(record)}");
                }

                queue.Complete(segment);
                continue;
            }

            if (!announced && queue.HoldsReplayLock)
            {
                announced = true;
                stdout.WriteLine("holder");
            }

            // A poll interval of the replay loop, not synchronisation: the test waits for output lines.
            stop.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(10));
        }

        return 0;
    }

    default:
        Console.Error.WriteLine("usage: append <dir> <count> <seed> [first-index] | replay <dir>");
        return 2;
}

static DurableRecord Record(int index) => new(
    index % 2 == 0 ? PayloadKind.OtlpTraces : PayloadKind.IngestionBatch,
    1 + (index % 3),
    DateTimeOffset.UtcNow,
    Payload(index),
    index % 2 == 0 ? "application/x-protobuf" : null,
    index % 5 == 0 ? "gzip" : null);

// Must match DurableTestRecords.Payload in the tests: "record <index>;" then 0-64 KiB of bytes seeded by the index.
static byte[] Payload(int index)
{
    var random = new Random(index);
    var prefix = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"record {index};"));
    var bytes = new byte[prefix.Length + random.Next(0, 64 * 1024)];
    prefix.CopyTo(bytes, 0);
    random.NextBytes(bytes.AsSpan(prefix.Length));
    return bytes;
}

static int IndexOf(DurableRecord record)
{
    var text = Encoding.ASCII.GetString(record.Payload.Span[..Math.Min(32, record.Payload.Length)]);
    var end = text.IndexOf(';', StringComparison.Ordinal);
    return end > 7 && text.StartsWith("record ", StringComparison.Ordinal) && int.TryParse(text.AsSpan(7, end - 7), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1;
}
