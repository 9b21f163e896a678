using System.Globalization;
using System.Text;
using Langfuse.Agents;
using Langfuse.Agents.Internal.Durable;

// append <dir> <count> <seed> [first-index]: appends records 0..count-1 (plus first-index) in batches of 1-4, printing
//   "acked <index>" right after each Append returned Stored. Payloads: see Payload (the tests compute the same bytes).
// replay <dir>: prints "holder" once it holds the replay lock, then "took <index>" for every record it replays
//   (completing each segment); polls until a line (or end of input) arrives on stdin, then exits.
// sdk <buffer-dir> <base-url> <public-key> <secret-key> <first> <count>: a LangfuseTracer with LANGFUSE_BUFFER_WRITE_AHEAD
//   on ends spans named "span-<n>" for n = first, first+1, ... in order, and prints "buffered <k>" each time the count of
//   items it has stored on disk (GetStatistics().Spilled) grows: the first k spans it ended are on disk. "dropped <n>"
//   if it ever drops one (the mapping from k to spans would no longer hold). Runs until killed (or count spans).
// deliver <buffer-dir> <base-url> <public-key> <secret-key>: a tracer on the same buffer, which delivers what earlier
//   runs left on disk; prints "ready", exits when a line (or end of input) arrives on stdin.
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

    case ["sdk", var dir, var baseUrl, var publicKey, var secretKey, var firstText, var countText]:
    {
        var first = int.Parse(firstText, invariant);
        var count = int.Parse(countText, invariant);
        await using var tracer = new LangfuseTracer(SdkOptions(dir, baseUrl, publicKey, secretKey, writeAhead: true));
        var done = false;
        var reporter = new Thread(() =>
        {
            long reported = 0;
            while (!Volatile.Read(ref done))
            {
                var stats = tracer.GetStatistics();
                if (stats.DroppedTotal > 0)
                {
                    stdout.WriteLine($"dropped {stats.DroppedTotal}");
                }

                if (stats.Spilled > reported)
                {
                    reported = stats.Spilled;
                    stdout.WriteLine($"buffered {reported}");
                }

                Thread.Sleep(2); // a poll of the counters, not synchronisation: the test waits for output lines
            }
        }) { IsBackground = true };
        reporter.Start();
        stdout.WriteLine("ready");
        for (var n = first; n < first + count; n++)
        {
            using (tracer.StartSpan($"span-{n}"))
            {
            }

            while (tracer.GetStatistics().QueueDepth > 2_000)
            {
                Thread.Sleep(1); // pace the producer so the in-memory queue never drops (and the order stays exact)
            }
        }

        Volatile.Write(ref done, true);
        reporter.Join();
        stdout.WriteLine("done");
        return 0;
    }

    case ["deliver", var dir, var baseUrl, var publicKey, var secretKey]:
    {
        await using var tracer = new LangfuseTracer(SdkOptions(dir, baseUrl, publicKey, secretKey, writeAhead: false));
        stdout.WriteLine("ready");
        await Console.In.ReadLineAsync();
        return 0;
    }

    default:
        Console.Error.WriteLine("usage: append <dir> <count> <seed> [first-index] | replay <dir> | sdk <dir> <url> <pk> <sk> <first> <count> | deliver <dir> <url> <pk> <sk>");
        return 2;
}

static LangfuseOptions SdkOptions(string dir, string baseUrl, string publicKey, string secretKey, bool writeAhead) => new()
{
    PublicKey = publicKey,
    SecretKey = secretKey,
    BaseUrl = new Uri(baseUrl),
    BufferDirectory = dir,
    BufferWriteAhead = writeAhead,
    FlushAt = 50,
    FlushInterval = TimeSpan.FromMilliseconds(100),
    MaxQueueSize = 100_000,
    ShutdownTimeout = TimeSpan.FromSeconds(2),
};

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
