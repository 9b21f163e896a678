using System.Diagnostics;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Langfuse.Agents.Internal;
using Langfuse.Agents.Internal.Pipeline;
using Langfuse.Agents.Internal.Tracing;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Langfuse.Agents.Benchmarks;

/// <summary>
/// Issue 10's question about the SDK's hot-path queue: the caller's cost of ending a child span (the
/// <see cref="ObservationLifecycleBenchmarks"/> ChildSpan work) when the ended observation goes into
/// <list type="bullet">
/// <item><c>Langfuse_LockFreeQueue</c>: today's <see cref="ExportPipeline"/> (a ConcurrentQueue bounded by counters),
/// its reader draining into an exporter that does nothing;</item>
/// <item><c>Langfuse_BoundedChannel</c>: a bounded <see cref="Channel{T}"/> of the same capacity written with
/// <c>TryWrite</c> from the export processor's place in the chain, one reader draining it;</item>
/// </list>
/// against OpenTelemetry's floor (a TracerProvider with a processor that does nothing), in the same run. The queue
/// stays lock-free only if the channel misses the caller-cost target (at most OpenTelemetry's floor).
/// </summary>
[MemoryDiagnoser]
public class HotPathQueueBenchmarks
{
    private const int Capacity = 1_000_000;
    private const string SourceName = "Bench.OTel.HotPath";

    private readonly BenchData.CallerThreadAllocations _allocations = new();
    private ActivitySource? _source;
    private Activity? _parentActivity;
    private TracerProvider? _provider;
    private LangfuseTracer? _tracer;
    private LangfuseObservation? _parent;
    private Channel<ExportItem>? _channel;
    private Task? _channelReader;
    private string _variant = "";

    [GlobalSetup(Target = nameof(OTel_NoopProcessor_ChildSpan))]
    public void SetupOTel()
    {
        _variant = "OTel no-op processor";
        _source = new ActivitySource(SourceName, "1.0.0");
        _provider = Sdk.CreateTracerProviderBuilder().AddSource(SourceName).SetSampler(new AlwaysOnSampler()).AddProcessor(new NoopProcessor()).Build();
        _parentActivity = _source.StartActivity("agent-run");
        Activity.Current = null;
        _allocations.Start();
    }

    [GlobalSetup(Target = nameof(Langfuse_LockFreeQueue_ChildSpan))]
    public void SetupLockFree()
    {
        _variant = "Langfuse lock-free queue";
        _tracer = new LangfuseTracer(new TracerCoreBuilder(Options()) { LoggerFactory = NullLoggerFactory.Instance, Exporter = new NoopBatchExporter() }.Build());
        StartParent();
    }

    [GlobalSetup(Target = nameof(Langfuse_BoundedChannel_ChildSpan))]
    public void SetupChannel()
    {
        _variant = "Langfuse bounded Channel<T>";
        _channel = Channel.CreateBounded<ExportItem>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then returns false instead of blocking: drop newest
            SingleReader = true,
            SingleWriter = false,
        });
        var reader = _channel.Reader;
        _channelReader = Task.Run(async () =>
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out _))
                {
                }
            }
        });

        // Tracing on (so ids, sampling and the chain run as in production) but its own queue left out: the channel
        // takes the export processor's place.
        var options = Options();
        options.Processors.Add(new ChannelProcessor(_channel.Writer));
        _tracer = new LangfuseTracer(new TracerCoreBuilder(options) { LoggerFactory = NullLoggerFactory.Instance, Exporter = new NoopBatchExporter(), SkipExportQueue = true }.Build());
        StartParent();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// {_variant}: {_allocations.Report()}");
        _parent?.Dispose();
        _tracer?.Dispose();
        _channel?.Writer.TryComplete();
        _channelReader?.Wait(TimeSpan.FromSeconds(10));
        _parentActivity?.Dispose();
        _provider?.Dispose();
        _source?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void OTel_NoopProcessor_ChildSpan()
    {
        using (var activity = _source!.StartActivity("search-docs", ActivityKind.Internal, _parentActivity!.Context))
        {
            activity?.SetTag("langfuse.observation.input", BenchData.Input);
            activity?.SetTag("langfuse.observation.output", BenchData.Output);
            activity?.SetTag("langfuse.observation.level", "WARNING");
            activity?.SetTag("langfuse.version", BenchData.Version);
            activity?.SetTag("langfuse.observation.metadata.tool", BenchData.MetadataValue);
        }

        _allocations.Operations++;
    }

    [Benchmark]
    public void Langfuse_LockFreeQueue_ChildSpan() => ChildSpan();

    [Benchmark]
    public void Langfuse_BoundedChannel_ChildSpan() => ChildSpan();

    private static LangfuseOptions Options() => new()
    {
        PublicKey = "pk-lf-bench",
        SecretKey = "sk-lf-bench",
        BaseUrl = new Uri("http://127.0.0.1:1"),
        ServiceName = "bench",
        MaxQueueSize = Capacity,
        MaxQueueBytes = 16L * 1024 * 1024 * 1024,
    };

    private void StartParent()
    {
        _parent = _tracer!.StartSpan("agent-run");
        ObservationContext.Current = null;
        _allocations.Start();
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

    private sealed class ChannelProcessor(ChannelWriter<ExportItem> writer) : LangfuseProcessor
    {
        public override bool OnEnd(in CompletedObservation observation)
        {
            writer.TryWrite(new ExportItem(in observation));
            return true;
        }
    }

    private sealed class NoopProcessor : BaseProcessor<Activity>
    {
    }

    private sealed class NoopBatchExporter : IBatchExporter
    {
        public Task ExportAsync(IReadOnlyList<ExportItem> batch, CancellationToken cancellationToken) => Task.CompletedTask;

        public void Persist(IReadOnlyList<ExportItem> batch, DropReason reasonWithoutBuffer)
        {
        }
    }
}
