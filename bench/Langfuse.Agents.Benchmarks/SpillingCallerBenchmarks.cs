using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Langfuse.Agents.Internal;
using Langfuse.Agents.Internal.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Langfuse.Agents.Benchmarks;

/// <summary>
/// What the caller pays for an observation while Langfuse is down and the SDK is spilling batches to disk, against
/// the same tracer while Langfuse is healthy. The operation is <c>ObservationLifecycleBenchmarks</c>' ChildSpan: start a
/// child of an open span, set input (~320 chars), output (~330 chars), level, version and one metadata entry, end it.
/// <list type="bullet">
/// <item><c>Healthy_ChildSpan</c> (baseline): the tracer's real pipeline (sampling → queue → background prepare + OTLP
/// encode + Polly) over an <see cref="ILangfuseApi"/> that answers 200 at once.</item>
/// <item><c>Spilling_ChildSpan</c>: the same tracer over an <see cref="ILangfuseApi"/> that throws
/// <see cref="HttpRequestException"/> at once. With the default resilience options (5 retries from 250 ms, circuit
/// opens after 5 failures for 30 s) the first batch exhausts its retries and opens the circuit; from then on every
/// batch is encoded and appended to the on-disk buffer (a real directory under the temp directory, default fsync
/// policy: fsync before rename, 50 MiB cap, drop oldest), and the forwarder keeps trying to replay it. GlobalSetup
/// waits until the first batch is on disk, so the measurement runs in that steady state.</item>
/// </list>
/// Categories: <c>ChildSpan</c> is BenchmarkDotNet's usual tight loop, which outruns the background and so measures
/// a mix of enqueues and (cheaper) QueueFull drops, in different proportions healthy and spilling;
/// <c>ChildSpanBurst</c> ends <see cref="BurstSize"/> spans per invocation into an empty queue, so every one is
/// enqueued while the background sends or spills; <c>GetStatistics</c> (diagnostic) times
/// <see cref="LangfuseTracer.GetStatistics"/> while a producer thread keeps the background busy.
/// Both tracers have the options of <c>ObservationLifecycleBenchmarks</c> (in-memory queue of 1,000,000 items), so the
/// figures compare with its <c>Langfuse_ChildSpan</c> row. GlobalCleanup prints the statistics (spilled, drops by
/// reason) and the caller-thread allocations.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class SpillingCallerBenchmarks
{
    private readonly BenchData.CallerThreadAllocations _allocations = new();
    private LangfuseTracer? _tracer;
    private LangfuseObservation? _parent;
    private FakeApi? _api;
    private string _bufferRoot = "";
    private string _variant = "";
    private Thread? _producer;
    private CancellationTokenSource? _producerStop;

    /// <summary>Spans per invocation of the burst rows: a fifth of the in-memory queue, so none is dropped as QueueFull.</summary>
    public const int BurstSize = 200_000;

    [GlobalSetup(Targets = new[] { nameof(Healthy_ChildSpan), nameof(Healthy_ChildSpan_Burst) })]
    public void SetupHealthy()
    {
        _variant = "healthy";
        Create(new FakeApi(failing: false));
        StartParent();
    }

    [GlobalSetup(Targets = new[] { nameof(Spilling_ChildSpan), nameof(Spilling_ChildSpan_Burst) })]
    public void SetupSpilling()
    {
        _variant = "spilling";
        Create(new FakeApi(failing: true));

        // Drive the pipeline into its outage steady state (retries exhausted, circuit open, batches on disk) first.
        var clock = Stopwatch.StartNew();
        while (_tracer!.GetStatistics().Spilled == 0)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"Nothing was spilled within 60 s: {_tracer.GetStatistics()}");
            }

            for (var i = 0; i < 1024; i++)
            {
                using var span = _tracer.StartSpan("warm-up");
            }

            Thread.Sleep(50);
        }

        Console.WriteLine($"// [spilling] first spill after {clock.Elapsed.TotalSeconds:F1} s: {_tracer.GetStatistics()}");
        StartParent();
    }

    [GlobalSetup(Target = nameof(Healthy_GetStatistics))]
    public void SetupHealthyGetStatistics()
    {
        SetupHealthy();
        _variant = "healthy, GetStatistics under load";
        StartProducer();
    }

    [GlobalSetup(Target = nameof(Spilling_GetStatistics))]
    public void SetupSpillingGetStatistics()
    {
        SetupSpilling();
        _variant = "spilling, GetStatistics under load";
        StartProducer();
    }

    /// <summary>Before each burst: wait until the background has emptied the in-memory queue (sent, or spilled).</summary>
    [IterationSetup(Targets = new[] { nameof(Healthy_ChildSpan_Burst), nameof(Spilling_ChildSpan_Burst) })]
    public void WaitForEmptyQueue()
    {
        var clock = Stopwatch.StartNew();
        while (_tracer!.GetStatistics().QueueDepth > 0)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new InvalidOperationException($"The queue did not empty within 120 s: {_tracer.GetStatistics()}");
            }

            Thread.Sleep(1);
        }
    }

    private void StartProducer()
    {
        // Keep the exporter spilling while GetStatistics is measured: a producer thread ends spans at a steady pace.
        _producerStop = new CancellationTokenSource();
        var token = _producerStop.Token;
        var tracer = _tracer!;
        _producer = new Thread(() =>
        {
            while (!token.IsCancellationRequested)
            {
                for (var i = 0; i < 512; i++)
                {
                    using var span = tracer.StartSpan("background-load");
                    span.Input = BenchData.Input;
                }

                Thread.Sleep(1);
            }
        })
        { IsBackground = true, Name = "bench-producer" };
        _producer.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _producerStop?.Cancel();
        _producer?.Join();
        var caller = _allocations.Report();
        var before = _tracer!.GetStatistics();
        var flushed = _tracer.FlushAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        var stats = _tracer.GetStatistics();
        var bufferBytes = Directory.Exists(_bufferRoot)
            ? Directory.EnumerateFiles(_bufferRoot, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length)
            : 0;
        Console.WriteLine(
            $"// [{_variant}] {caller}; before flush: {before}; flushed={flushed}; {stats}; " +
            $"QueueFull drops={stats.Dropped[DropReason.QueueFull]:N0} of {stats.Ended:N0} ended ({100.0 * stats.Dropped[DropReason.QueueFull] / Math.Max(1, stats.Ended):F0} %); " +
            $"spilled={stats.Spilled:N0}; BufferFull={stats.Dropped[DropReason.BufferFull]:N0}; api calls={_api!.Calls:N0}; buffer on disk now={bufferBytes:N0} B");
        _tracer.Dispose();
        try
        {
            Directory.Delete(_bufferRoot, recursive: true);
        }
        catch (IOException e)
        {
            Console.WriteLine($"// could not delete {_bufferRoot}: {e.Message}");
        }
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("ChildSpan")]
    public void Healthy_ChildSpan() => ChildSpan();

    [Benchmark]
    [BenchmarkCategory("ChildSpan")]
    public void Spilling_ChildSpan() => ChildSpan();

    /// <summary>
    /// <see cref="BurstSize"/> child spans back to back into an empty queue (IterationSetup waits for it), so every one
    /// is enqueued: the caller's cost while the background sends (healthy) or spills to disk (down), without the
    /// QueueFull drops a saturating loop causes.
    /// </summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BurstSize)]
    [BenchmarkCategory("ChildSpanBurst")]
    public void Healthy_ChildSpan_Burst() => Burst();

    [Benchmark(OperationsPerInvoke = BurstSize)]
    [BenchmarkCategory("ChildSpanBurst")]
    public void Spilling_ChildSpan_Burst() => Burst();

    /// <summary>Diagnostic: <see cref="LangfuseTracer.GetStatistics"/> while a producer thread ends ~512 spans per millisecond.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("GetStatistics")]
    public long Healthy_GetStatistics() => _tracer!.GetStatistics().Buffered;

    /// <summary>
    /// Diagnostic: <see cref="LangfuseTracer.GetStatistics"/> while spilling (a producer thread ends ~512 spans per
    /// millisecond). Its Buffered figure reads the durable queue's stats under the queue's lock, which an append holds
    /// through its fsync.
    /// </summary>
    [Benchmark]
    [BenchmarkCategory("GetStatistics")]
    public long Spilling_GetStatistics() => _tracer!.GetStatistics().Buffered;

    private void Create(FakeApi api)
    {
        _api = api;
        _bufferRoot = Path.Combine(Path.GetTempPath(), "langfuse-bench-spill-" + Guid.NewGuid().ToString("N"));
        var options = new LangfuseOptions
        {
            PublicKey = "pk-lf-bench",
            SecretKey = "sk-lf-bench",
            BaseUrl = new Uri("http://127.0.0.1:1"),
            ServiceName = "bench",
            MaxQueueSize = 1_000_000,
            MaxQueueBytes = 16L * 1024 * 1024 * 1024,
            ShutdownTimeout = TimeSpan.FromSeconds(30),
            BufferEnabled = true,
            BufferDirectory = _bufferRoot,
        };
        _tracer = new LangfuseTracer(options, NullLoggerFactory.Instance, httpClient: null, timeProvider: null, api: api);
        if (!_tracer.IsExporting)
        {
            throw new InvalidOperationException("The benchmark tracer is not exporting: check the options.");
        }
    }

    private void StartParent()
    {
        _parent = _tracer!.StartSpan("agent-run");
        ObservationContext.Current = null;
        _allocations.Start();
    }

    private void Burst()
    {
        for (var i = 0; i < BurstSize; i++)
        {
            ChildSpan();
        }
    }

    private void ChildSpan()
    {
        using (var span = _parent!.StartSpan("search-docs"))
        {
            span.Input = BenchData.Input;
            span.Output = BenchData.Output;
            span.Level = ObservationLevel.Warning;
            span.Version = BenchData.Version;
            span.SetMetadata(BenchData.MetadataKey, BenchData.MetadataValue);
        }

        _allocations.Operations++;
    }

    /// <summary>Langfuse at once: 200 for everything, or an <see cref="HttpRequestException"/> for everything.</summary>
    private sealed class FakeApi(bool failing) : ILangfuseApi
    {
        private static readonly Task<ApiResponse> Ok = Task.FromResult(new ApiResponse(200, null, null));
        private long _calls;

        public long Calls => Interlocked.Read(ref _calls);

        public Task<ApiResponse> PostOtlpTracesAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken, string? contentType = null, string? contentEncoding = null) => Answer();

        public Task<ApiResponse> PostIngestionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken, string? contentEncoding = null) => Answer();

        public Task<ApiResponse> GetHealthAsync(CancellationToken cancellationToken) => Answer();

        private Task<ApiResponse> Answer()
        {
            Interlocked.Increment(ref _calls);
            return failing
                ? Task.FromException<ApiResponse>(new HttpRequestException("Connection refused (bench: Langfuse is down)"))
                : Ok;
        }
    }
}
