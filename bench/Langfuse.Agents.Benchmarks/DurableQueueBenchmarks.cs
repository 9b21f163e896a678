using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Benchmarks;

/// <summary>
/// Throughput of the on-disk buffer (<see cref="DurableQueue"/>) on the real file system, in a fresh directory under
/// the system temp directory (<c>/tmp</c> here: the same ext4 volume as the repository, see bench/RESULTS.md).
/// <list type="bullet">
/// <item><c>Append</c>: one <see cref="DurableQueue.Append"/> of a batch, 100 KiB of payload either way
/// (<see cref="RecordShape.One100KiB"/>: one record, an OTLP request's size; <see cref="RecordShape.Ten10KiB"/>: ten
/// records of 10 KiB). Each call writes one segment: encode + CRC-32C, a temporary file, then (with
/// <see cref="Fsync"/>) fsync of the file, rename, fsync of the directory. <see cref="AppendsPerIteration"/> appends
/// per iteration, each iteration in a new empty directory (IterationSetup), so the queue never reaches its cap.</item>
/// <item><c>Replay</c>: <see cref="DurableQueue.TryTakeOldest"/> (directory rescan, read, checksum, decode) and
/// <see cref="DurableQueue.Complete"/> (delete) over a backlog of <see cref="AppendsPerIteration"/> segments written
/// by IterationSetup (so the files are in the page cache: this is replay right after an outage, not after a reboot).
/// <see cref="Fsync"/> does not apply to replay (deletes are never fsynced); both values are run as a check.</item>
/// </list>
/// One operation = one segment (one append, or one take + complete). The <c>Records/s</c> and <c>Payload MB/s</c>
/// columns are derived from the mean (MB = 10^6 bytes of payload; on disk a segment adds a 40-byte header and each
/// record 59 bytes of framing, content type included).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class DurableQueueBenchmarks
{
    /// <summary>Segments appended, or replayed, per iteration.</summary>
    public const int AppendsPerIteration = 512;

    private const int PayloadBytesPerOperation = 100 * 1024;

    private readonly List<string> _directories = [];
    private string _root = "";
    private DurableQueue? _queue;
    private DurableRecord[] _records = [];
    private long _appendFailures;
    private long _taken;

    /// <summary>The shape of one append's batch.</summary>
    public enum RecordShape
    {
        /// <summary>One record of 100 KiB.</summary>
        One100KiB,

        /// <summary>Ten records of 10 KiB.</summary>
        Ten10KiB,
    }

    /// <summary><see cref="DurableQueueOptions.FsyncBeforeRename"/>.</summary>
    [Params(true, false)]
    public bool Fsync { get; set; }

    [Params(RecordShape.One100KiB, RecordShape.Ten10KiB)]
    public RecordShape Shape { get; set; }

    internal static int RecordsPerOperation(RecordShape shape) => shape == RecordShape.One100KiB ? 1 : 10;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _root = Path.Combine(Path.GetTempPath(), "langfuse-bench-durable-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
        var count = RecordsPerOperation(Shape);
        var size = PayloadBytesPerOperation / count;
        var random = new Random(42);
        var now = DateTimeOffset.UtcNow;
        _records = new DurableRecord[count];
        for (var i = 0; i < count; i++)
        {
            var payload = new byte[size];
            random.NextBytes(payload); // incompressible, like a protobuf body full of ids and text
            _records[i] = new DurableRecord(PayloadKind.OtlpTraces, 512 / count, now, payload, "application/x-protobuf");
        }
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _queue?.Dispose();
        Console.WriteLine($"// [Durable Fsync={Fsync} Shape={Shape}] append failures={_appendFailures}, segments taken={_taken:N0}, temp dir={_root}");
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException e)
        {
            Console.WriteLine($"// could not delete {_root}: {e.Message}");
        }
    }

    [IterationSetup(Target = nameof(Append))]
    public void SetupAppend() => OpenFreshQueue();

    [IterationSetup(Target = nameof(Replay))]
    public void SetupReplay()
    {
        OpenFreshQueue();
        for (var i = 0; i < AppendsPerIteration; i++)
        {
            if (_queue!.Append(_records) != AppendOutcome.Stored)
            {
                throw new InvalidOperationException("Preparing the replay backlog failed.");
            }
        }
    }

    [Benchmark(OperationsPerInvoke = AppendsPerIteration)]
    public void Append()
    {
        var queue = _queue!;
        for (var i = 0; i < AppendsPerIteration; i++)
        {
            if (queue.Append(_records) != AppendOutcome.Stored)
            {
                _appendFailures++;
            }
        }
    }

    [Benchmark(OperationsPerInvoke = AppendsPerIteration)]
    public void Replay()
    {
        var queue = _queue!;
        for (var i = 0; i < AppendsPerIteration; i++)
        {
            if (!queue.TryTakeOldest(out var segment))
            {
                throw new InvalidOperationException($"The backlog ran out after {i} segments.");
            }

            queue.Complete(segment!);
            _taken++;
        }
    }

    /// <summary>A new, empty directory and queue per iteration; the previous ones are deleted (not timed).</summary>
    private void OpenFreshQueue()
    {
        _queue?.Dispose();
        foreach (var old in _directories)
        {
            Directory.Delete(old, recursive: true);
        }

        _directories.Clear();
        var directory = Path.Combine(_root, Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        _queue = new DurableQueue(new DurableQueueOptions
        {
            Directory = directory,
            MaxBytes = 1L << 40, // no eviction: the cap is not what is measured
            FsyncBeforeRename = Fsync,
        });
        if (!_queue.IsAvailable)
        {
            throw new InvalidOperationException($"The durable queue in {directory} is unavailable.");
        }
    }

    private sealed class ThroughputConfig : ManualConfig
    {
        public ThroughputConfig()
        {
            AddColumn(new ThroughputColumn(perRecord: true), new ThroughputColumn(perRecord: false));
        }
    }

    /// <summary>Records per second, or payload megabytes (10^6 bytes) per second, from the mean time per segment.</summary>
    private sealed class ThroughputColumn(bool perRecord) : IColumn
    {
        public string Id => perRecord ? "Durable.RecordsPerSecond" : "Durable.PayloadMBPerSecond";

        public string ColumnName => perRecord ? "Records/s" : "Payload MB/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => perRecord ? 0 : 1;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => perRecord
            ? "Records appended or replayed per second, from the mean"
            : "Payload megabytes (10^6 bytes) appended or replayed per second, from the mean";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
            if (meanNs is not > 0 || benchmarkCase.Parameters["Shape"] is not RecordShape shape)
            {
                return "?";
            }

            var perSecond = 1e9 / meanNs.Value;
            return perRecord
                ? (perSecond * RecordsPerOperation(shape)).ToString("N0", CultureInfo.InvariantCulture)
                : (perSecond * PayloadBytesPerOperation / 1e6).ToString("N1", CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
