using BenchmarkDotNet.Attributes;
using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Benchmarks;

/// <summary>
/// The cost of taking the next segment as the backlog grows (issue 9, finding 4): one
/// <see cref="DurableQueue.TryTakeOldest"/> and <see cref="DurableQueue.Release"/> of the oldest segment (1 KiB of
/// payload, so the read is the same whatever the backlog) with <see cref="Backlog"/> segments on disk. Before the
/// index, each take listed the whole directory, so its cost grew with the backlog; with the index it should not.
/// The backlog is written once per run (GlobalSetup, without fsync: what is measured is the take), in a fresh
/// directory under the system temp directory.
/// </summary>
[MemoryDiagnoser]
public class DurableQueueTakeBenchmarks
{
    private string _directory = "";
    private DurableQueue? _queue;

    /// <summary>Segments on disk while taking.</summary>
    [Params(100, 10_000)]
    public int Backlog { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "langfuse-bench-take-" + Guid.NewGuid().ToString("N"));
        _queue = new DurableQueue(new DurableQueueOptions { Directory = _directory, MaxBytes = 1L << 40, FsyncBeforeRename = false });
        var payload = new byte[1024];
        new Random(42).NextBytes(payload);
        DurableRecord[] record = [new(PayloadKind.OtlpTraces, 10, DateTimeOffset.UtcNow, payload, "application/x-protobuf")];
        for (var i = 0; i < Backlog; i++)
        {
            if (_queue.Append(record) != AppendOutcome.Stored)
            {
                throw new InvalidOperationException($"Writing the backlog failed at segment {i}.");
            }
        }
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _queue?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public int TakeAndRelease()
    {
        if (!_queue!.TryTakeOldest(out var segment))
        {
            throw new InvalidOperationException("Nothing to take.");
        }

        _queue.Release(segment!);
        return segment!.Records.Count;
    }
}
