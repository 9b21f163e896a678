using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
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
/// </list>
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
    private ActivitySource? _noopSource;
    private ActivitySource? _otlpSource;
    private TracerProvider? _provider;
    private BatchActivityExportProcessor? _batchProcessor;
    private LangfuseTracer? _tracer;
    private DrainingHandler? _handler;
    private HttpClient? _http;

    [GlobalSetup(Targets = new[] { nameof(OTel_NoopProcessor_Span), nameof(OTel_NoopProcessor_Generation) })]
    public void SetupOTelNoop()
    {
        _noopSource = new ActivitySource(NoopSourceName, "1.0.0");
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(NoopSourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(new NoopProcessor())
            .Build();
        _allocations.Start();
    }

    [GlobalSetup(Targets = new[] { nameof(OTel_BatchOtlp_Span), nameof(OTel_BatchOtlp_Generation) })]
    public void SetupOTelOtlp()
    {
        _handler = new DrainingHandler();
        _otlpSource = new ActivitySource(OtlpSourceName, "1.0.0");
        var exporter = new OtlpTraceExporter(new OtlpExporterOptions
        {
            Protocol = OtlpExportProtocol.HttpProtobuf,
            Endpoint = new Uri("http://127.0.0.1:1/v1/traces"),
            HttpClientFactory = () => new HttpClient(_handler, disposeHandler: false),
        });

        // Same queue capacity as the Langfuse tracer below, so neither side measures its drop path.
        _batchProcessor = new BatchActivityExportProcessor(exporter, maxQueueSize: 1_000_000, scheduledDelayMilliseconds: 5000, exporterTimeoutMilliseconds: 30000, maxExportBatchSize: 512);
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(OtlpSourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(_batchProcessor)
            .Build();
        _allocations.Start();
    }

    [GlobalSetup(Targets = new[] { nameof(Langfuse_Span), nameof(Langfuse_Generation) })]
    public void SetupLangfuse()
    {
        _handler = new DrainingHandler();
        _http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        var options = new LangfuseOptions
        {
            PublicKey = "pk-lf-bench",
            SecretKey = "sk-lf-bench",
            BaseUrl = new Uri("http://127.0.0.1:1"),
            ServiceName = "bench",
            MaxQueueSize = 1_000_000,
            MaxQueueBytes = 16L * 1024 * 1024 * 1024,
            ShutdownTimeout = TimeSpan.FromSeconds(30),
        };
        _tracer = new LangfuseTracer(options, NullLoggerFactory.Instance, _http, timeProvider: null);
        if (!_tracer.IsExporting)
        {
            throw new InvalidOperationException("The benchmark tracer is not exporting: check the options.");
        }

        _allocations.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var caller = _allocations.Report();
        if (_tracer is not null)
        {
            var flushed = _tracer.FlushAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
            var stats = _tracer.GetStatistics();
            Console.WriteLine($"// [Langfuse] {caller}; flushed={flushed}; {stats}; QueueFull drops={stats.Dropped[DropReason.QueueFull]}; http requests={_handler!.Requests:N0}, bytes={_handler.Bytes:N0}");
            _tracer.Dispose();
            _http?.Dispose();
        }
        else if (_batchProcessor is not null)
        {
            _provider!.ForceFlush(60_000);
            var dropped = typeof(BatchExportProcessor<Activity>).GetProperty("DroppedCount", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)?.GetValue(_batchProcessor);
            Console.WriteLine($"// [OTel batch+OTLP] {caller}; dropped={dropped ?? "?"}; http requests={_handler!.Requests:N0}, bytes={_handler.Bytes:N0}");
            _provider!.Dispose();
        }
        else
        {
            Console.WriteLine($"// [OTel no-op] {caller}");
            _provider?.Dispose();
        }
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Span")]
    public void OTel_NoopProcessor_Span() => OTelSpan(_noopSource!);

    [Benchmark]
    [BenchmarkCategory("Span")]
    public void OTel_BatchOtlp_Span() => OTelSpan(_otlpSource!);

    [Benchmark]
    [BenchmarkCategory("Span")]
    public void Langfuse_Span()
    {
        using (var span = _tracer!.StartSpan("search-docs"))
        {
            span.Input = BenchData.Input;
            span.Output = BenchData.Output;
            span.Level = ObservationLevel.Warning;
            span.Version = BenchData.Version;
            span.SetMetadata(BenchData.MetadataKey, BenchData.MetadataValue);
        }

        _allocations.Operations++;
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Generation")]
    public void OTel_NoopProcessor_Generation() => OTelGeneration(_noopSource!);

    [Benchmark]
    [BenchmarkCategory("Generation")]
    public void OTel_BatchOtlp_Generation() => OTelGeneration(_otlpSource!);

    [Benchmark]
    [BenchmarkCategory("Generation")]
    public void Langfuse_Generation()
    {
        using (var generation = _tracer!.StartGeneration("chat", BenchData.Model, BenchData.Input))
        {
            generation.Output = BenchData.Output;
            generation.SetUsage(120, 48, 168);
        }

        _allocations.Operations++;
    }

    private void OTelSpan(ActivitySource source)
    {
        using (var activity = source.StartActivity("search-docs"))
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
    private void OTelGeneration(ActivitySource source)
    {
        using (var activity = source.StartActivity("chat"))
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
}
