using System.Diagnostics;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Langfuse.Agents.Internal;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Pipeline;
using Langfuse.Agents.Internal.Tracing;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;

namespace Langfuse.Agents.Benchmarks;

/// <summary>
/// The caller's cost of one observation: start it, set five attributes (input, output, level, version, one metadata
/// entry), end it. Baseline: OpenTelemetry .NET 1.20 — a real TracerProvider (ActivitySource + its listener,
/// AlwaysOn sampling) doing StartActivity + 5 SetTag + Dispose.
/// <list type="bullet">
/// <item><c>OTel_NoopProcessor</c>: the provider with a processor that does nothing — OpenTelemetry's floor.</item>
/// <item><c>OTel_BatchOtlp</c>: the provider with its BatchActivityExportProcessor and OtlpTraceExporter (HTTP/protobuf
/// over a handler that drains the body and answers 200) — OpenTelemetry's whole pipeline, like ours.</item>
/// <item><c>Langfuse</c>: a LangfuseTracer with keys, its real pipeline (OnEnded → sampling → channel → background
/// prepare + OTLP encode + Polly + LangfuseApiClient) over the same draining handler.</item>
/// <item><c>Langfuse_NoopExporter</c> (diagnostic): the same tracer whose pipeline's exporter does nothing (swapped in by
/// reflection), so the caller's path incl. TryEnqueue is measured while the background only drains the channel.</item>
/// <item><c>Langfuse_NoPipeline</c> (diagnostic): a tracer with tracing off — object, ids, clock and current-observation
/// work only, no enqueue: the SDK's floor, like OpenTelemetry's no-op processor.</item>
/// </list>
/// Categories: <c>Span</c> (a new trace's root span), <c>ChildSpan</c> (a child of an open span, the common case in an
/// agent run), <c>Generation</c> (a root generation with model, prompt, completion and usage).
/// The Allocated column is process-wide (it includes background exporters running meanwhile); the caller-thread
/// figure is printed by GlobalCleanup ("caller-thread allocations").
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ObservationLifecycleBenchmarks
{
    private const string NoopSourceName = "Bench.OTel.Noop";
    private const string OtlpSourceName = "Bench.OTel.Otlp";

    private readonly BenchData.CallerThreadAllocations _allocations = new();
    private ActivitySource? _source;
    private Activity? _parentActivity;
    private TracerProvider? _provider;
    private BatchActivityExportProcessor? _batchProcessor;
    private LangfuseTracer? _tracer;
    private LangfuseObservation? _parent;
    private DrainingHandler? _handler;
    private HttpClient? _http;
    private string _variant = "";

    [GlobalSetup(Targets = new[] { nameof(OTel_NoopProcessor_Span), nameof(OTel_NoopProcessor_ChildSpan), nameof(OTel_NoopProcessor_Generation) })]
    public void SetupOTelNoop()
    {
        _variant = "OTel no-op processor";
        _source = new ActivitySource(NoopSourceName, "1.0.0");
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(NoopSourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(new NoopProcessor())
            .Build();
        StartOTelParent();
    }

    [GlobalSetup(Targets = new[] { nameof(OTel_BatchOtlp_Span), nameof(OTel_BatchOtlp_ChildSpan), nameof(OTel_BatchOtlp_Generation) })]
    public void SetupOTelOtlp()
    {
        _variant = "OTel batch+OTLP";
        _handler = new DrainingHandler();
        _source = new ActivitySource(OtlpSourceName, "1.0.0");
        var exporter = new OtlpTraceExporter(new OtlpExporterOptions
        {
            Protocol = OtlpExportProtocol.HttpProtobuf,
            Endpoint = new Uri("http://127.0.0.1:1/v1/traces"),
            HttpClientFactory = () => new HttpClient(_handler, disposeHandler: false),
        });

        // Same queue capacity as the Langfuse tracer below, so neither side is set up to drop.
        _batchProcessor = new BatchActivityExportProcessor(exporter, maxQueueSize: 1_000_000, scheduledDelayMilliseconds: 5000, exporterTimeoutMilliseconds: 30000, maxExportBatchSize: 512);
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(OtlpSourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(_batchProcessor)
            .Build();
        StartOTelParent();
    }

    [GlobalSetup(Targets = new[] { nameof(Langfuse_Span), nameof(Langfuse_ChildSpan), nameof(Langfuse_Generation) })]
    public void SetupLangfuse()
    {
        _variant = "Langfuse full pipeline";
        CreateExportingTracer();
        StartLangfuseParent();
    }

    [GlobalSetup(Targets = new[] { nameof(Langfuse_NoopExporter_Span), nameof(Langfuse_NoopExporter_ChildSpan), nameof(Langfuse_NoopExporter_Generation) })]
    public void SetupLangfuseNoopExporter()
    {
        _variant = "Langfuse no-op exporter";

        // The builder's exporter seam: the real pipeline, with an exporter that does nothing (diagnostic only).
        _tracer = new LangfuseTracer(new TracerCoreBuilder(ExportingOptions())
        {
            LoggerFactory = NullLoggerFactory.Instance,
            Exporter = new NoopBatchExporter(),
        }.Build());
        StartLangfuseParent();
    }

    [GlobalSetup(Targets = new[] { nameof(Langfuse_NoPipeline_Span), nameof(Langfuse_NoPipeline_ChildSpan), nameof(Langfuse_NoPipeline_Generation) })]
    public void SetupLangfuseNoPipeline()
    {
        _variant = "Langfuse no pipeline";
        _tracer = new LangfuseTracer(new LangfuseOptions { TracingEnabled = false }, NullLoggerFactory.Instance);
        StartLangfuseParent();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var caller = _allocations.Report();
        if (_tracer is not null)
        {
            var flushed = _tracer.FlushAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
            var stats = _tracer.GetStatistics();
            Console.WriteLine($"// [{_variant}] {caller}; flushed={flushed}; {stats}; QueueFull drops={stats.Dropped[DropReason.QueueFull]}; http requests={_handler?.Requests ?? 0:N0}, bytes={_handler?.Bytes ?? 0:N0}");
            _tracer.Dispose();
            _http?.Dispose();
        }
        else if (_batchProcessor is not null)
        {
            _provider!.ForceFlush(60_000);
            var dropped = typeof(BatchExportProcessor<Activity>).GetProperty("DroppedCount", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(_batchProcessor);
            Console.WriteLine($"// [{_variant}] {caller}; dropped={dropped ?? "?"}; http requests={_handler!.Requests:N0}, bytes={_handler.Bytes:N0}");
            _provider!.Dispose();
        }
        else
        {
            Console.WriteLine($"// [{_variant}] {caller}");
            _provider?.Dispose();
        }
    }

    // ---- Span: the root span of a new trace ----

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Span")]
    public void OTel_NoopProcessor_Span() => OTelSpan(default);

    [Benchmark]
    [BenchmarkCategory("Span")]
    public void OTel_BatchOtlp_Span() => OTelSpan(default);

    [Benchmark]
    [BenchmarkCategory("Span")]
    public void Langfuse_Span() => LangfuseSpan(null);

    [Benchmark]
    [BenchmarkCategory("Span")]
    public void Langfuse_NoopExporter_Span() => LangfuseSpan(null);

    [Benchmark]
    [BenchmarkCategory("Span")]
    public void Langfuse_NoPipeline_Span() => LangfuseSpan(null);

    // ---- ChildSpan: a span under an open parent ----

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("ChildSpan")]
    public void OTel_NoopProcessor_ChildSpan() => OTelSpan(_parentActivity!.Context);

    [Benchmark]
    [BenchmarkCategory("ChildSpan")]
    public void OTel_BatchOtlp_ChildSpan() => OTelSpan(_parentActivity!.Context);

    [Benchmark]
    [BenchmarkCategory("ChildSpan")]
    public void Langfuse_ChildSpan() => LangfuseSpan(_parent);

    [Benchmark]
    [BenchmarkCategory("ChildSpan")]
    public void Langfuse_NoopExporter_ChildSpan() => LangfuseSpan(_parent);

    [Benchmark]
    [BenchmarkCategory("ChildSpan")]
    public void Langfuse_NoPipeline_ChildSpan() => LangfuseSpan(_parent);

    // ---- Generation: model, prompt, completion, usage ----

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Generation")]
    public void OTel_NoopProcessor_Generation() => OTelGeneration();

    [Benchmark]
    [BenchmarkCategory("Generation")]
    public void OTel_BatchOtlp_Generation() => OTelGeneration();

    [Benchmark]
    [BenchmarkCategory("Generation")]
    public void Langfuse_Generation() => LangfuseGeneration();

    [Benchmark]
    [BenchmarkCategory("Generation")]
    public void Langfuse_NoopExporter_Generation() => LangfuseGeneration();

    [Benchmark]
    [BenchmarkCategory("Generation")]
    public void Langfuse_NoPipeline_Generation() => LangfuseGeneration();

    private static LangfuseOptions ExportingOptions() => new()
    {
        PublicKey = "pk-lf-bench",
        SecretKey = "sk-lf-bench",
        BaseUrl = new Uri("http://127.0.0.1:1"),
        ServiceName = "bench",
        MaxQueueSize = 1_000_000,
        MaxQueueBytes = 16L * 1024 * 1024 * 1024,
        ShutdownTimeout = TimeSpan.FromSeconds(30),
    };

    private void CreateExportingTracer()
    {
        _handler = new DrainingHandler();
        _http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        _tracer = new LangfuseTracer(ExportingOptions(), NullLoggerFactory.Instance, _http, timeProvider: null);
        if (!_tracer.IsExporting)
        {
            throw new InvalidOperationException("The benchmark tracer is not exporting: check the options.");
        }
    }

    /// <summary>An open parent for ChildSpan, not left current (root benchmarks must start new traces).</summary>
    private void StartLangfuseParent()
    {
        _parent = _tracer!.StartSpan("agent-run");
        ObservationContext.Current = null;
        _allocations.Start();
    }

    private void StartOTelParent()
    {
        _parentActivity = _source!.StartActivity("agent-run");
        Activity.Current = null;
        _allocations.Start();
    }

    private void LangfuseSpan(LangfuseObservation? parent)
    {
        using (var span = parent is null ? _tracer!.StartSpan("search-docs") : parent.StartSpan("search-docs"))
        {
            span.Input = BenchData.Input;
            span.Output = BenchData.Output;
            span.Level = ObservationLevel.Warning;
            span.Version = BenchData.Version;
            span.SetMetadata(BenchData.MetadataKey, BenchData.MetadataValue);
        }

        _allocations.Operations++;
    }

    private void LangfuseGeneration()
    {
        using (var generation = _tracer!.StartGeneration("chat", BenchData.Model, BenchData.Input))
        {
            generation.Output = BenchData.Output;
            generation.SetUsage(120, 48, 168);
        }

        _allocations.Operations++;
    }

    private void OTelSpan(ActivityContext parent)
    {
        using (var activity = _source!.StartActivity("search-docs", ActivityKind.Internal, parent))
        {
            activity?.SetTag("langfuse.observation.input", BenchData.Input);
            activity?.SetTag("langfuse.observation.output", BenchData.Output);
            activity?.SetTag("langfuse.observation.level", "WARNING");
            activity?.SetTag("langfuse.version", BenchData.Version);
            activity?.SetTag("langfuse.observation.metadata.tool", BenchData.MetadataValue);
        }

        _allocations.Operations++;
    }

    /// <summary>Model, prompt, completion and three token counts (as OpenTelemetry's gen_ai conventions record them).</summary>
    private void OTelGeneration()
    {
        using (var activity = _source!.StartActivity("chat"))
        {
            activity?.SetTag("gen_ai.request.model", BenchData.Model);
            activity?.SetTag("langfuse.observation.input", BenchData.Input);
            activity?.SetTag("langfuse.observation.output", BenchData.Output);
            activity?.SetTag("gen_ai.usage.input_tokens", 120L);
            activity?.SetTag("gen_ai.usage.output_tokens", 48L);
            activity?.SetTag("gen_ai.usage.total_tokens", 168L);
        }

        _allocations.Operations++;
    }

    private sealed class NoopProcessor : BaseProcessor<Activity>
    {
    }

    /// <summary>Accepts every batch and does nothing with it.</summary>
    private sealed class NoopBatchExporter : IBatchExporter
    {
        public Task ExportAsync(IReadOnlyList<ExportItem> batch, CancellationToken cancellationToken) => Task.CompletedTask;

        public void Persist(IReadOnlyList<ExportItem> batch, DropReason reasonWithoutBuffer)
        {
        }
    }
}
