using System.Diagnostics;
using System.Net.Http.Headers;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Internal.Pipeline;
using Langfuse.Agents.Internal.Http;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;

namespace Langfuse.Agents.Benchmarks;

/// <summary>
/// Encoding one batch of <see cref="SpanCount"/> completed observations to an OTLP <c>ExportTraceServiceRequest</c>
/// (protobuf). Each span has 9 attributes, as the SDK writes them for a child span of a trace with a name, user,
/// session and environment: observation type, input (~320 chars), output (~330 chars), metadata (JSON), version,
/// trace name, user id, session id, environment. OpenTelemetry gets the equivalent Activities with the same 9 tags
/// (same keys, same values) and a resource with service.name, service.instance.id and telemetry.sdk.*.
/// <list type="bullet">
/// <item><c>OTel_ExporterExport</c> (baseline, public API): <c>OtlpTraceExporter.Export(in Batch&lt;Activity&gt;)</c>,
/// HTTP/protobuf, over an HttpClient whose handler drains the body and answers 200 (no network). Serialize + HTTP.</item>
/// <item><c>OTel_SerializerOnly</c>: OpenTelemetry's internal <c>ProtobufOtlpTraceSerializer.WriteTraceData</c> called
/// through reflection (a cached MethodInfo and argument array; its ~100 ns overhead is noise here). Serialize only.</item>
/// <item><c>Langfuse_EncodeOnly</c>: <c>OtlpTraceEncoder.Encode</c> over PreparedObservations, as the exporter calls it.</item>
/// <item><c>Langfuse_EncodeAndHttpContent</c>: encode + ReadOnlyMemoryContent + HttpClient.SendAsync through the same
/// draining handler: the minimum HTTP work, comparable to what OTel_ExporterExport does after serializing.</item>
/// <item><c>Langfuse_EncodeAndApiClient</c>: encode + the SDK's real LangfuseApiClient (auth and SDK headers, response
/// read) through the same handler.</item>
/// <item><c>Langfuse_ExporterExportAsync</c>: the SDK's whole background batch, LangfuseExporter.ExportAsync from ended
/// LangfuseObservations: prepare (values already strings; metadata serialized to JSON) + encode + Polly + LangfuseApiClient.
/// OpenTelemetry has no prepare step (its Activities hold the values), so this is more work than the baseline.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
public class OtlpEncodingBenchmarks
{
    private const string SourceName = "Bench.OTel.Encoding";
    private static readonly MediaTypeHeaderValue ProtobufContentType = new("application/x-protobuf");
    private static readonly Uri OtlpUri = new("http://127.0.0.1:1/api/public/otel/v1/traces");

    private readonly List<LangfuseObservation> _observations = [];
    private List<ExportItem> _items = [];
    private List<PreparedObservation> _prepared = [];
    private Activity[] _activities = [];
    private OtlpTraceEncoder? _encoder;
    private OtlpTraceExporter? _otelExporter;
    private MethodInfo? _writeTraceData;
    private object?[] _writeTraceDataArgs = [];
    private DrainingHandler? _handler;
    private HttpClient? _http;
    private LangfuseApiClient? _api;
    private LangfuseExporter? _exporter;
    private LangfuseMetrics? _metrics;
    private ActivitySource? _source;
    private ActivityListener? _listener;

    [Params(100)]
    public int SpanCount { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var instanceId = Guid.NewGuid().ToString();
        _handler = new DrainingHandler();
        _http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };

        // Ours: real observations of one trace, ended, then prepared the way the background prepares them.
        var options = new LangfuseOptions
        {
            PublicKey = "pk-lf-bench",
            SecretKey = "sk-lf-bench",
            BaseUrl = new Uri("http://127.0.0.1:1"),
            Environment = "production",
            ServiceName = "bench",
        };
        using (var offline = new LangfuseTracer(new LangfuseOptions { TracingEnabled = false, Environment = "production" }, NullLoggerFactory.Instance))
        {
            using var root = offline.StartTrace("agent-run", sessionId: "session-42", userId: "user-7");
            for (var i = 0; i < SpanCount; i++)
            {
                var span = root.StartSpan("search-docs");
                span.Input = BenchData.Input;
                span.Output = BenchData.Output;
                span.Version = BenchData.Version;
                span.SetMetadata(BenchData.MetadataKey, BenchData.MetadataValue);
                span.End();
                _observations.Add(span);
            }
        }

        var preparer = new ObservationPreparer(options, NullLogger.Instance);
        _prepared = [.. _observations.Select(o => preparer.Prepare(o)!)];
        _items = [.. _observations.Select(static o => new ExportItem(new CompletedObservation(o, o.TraceIfCreated?.Attributes)))];
        var resourceInfo = new OtlpResourceInfo("bench", instanceId, LangfuseTracer.SdkVersion);
        _encoder = new OtlpTraceEncoder(resourceInfo);
        _api = new LangfuseApiClient(_http, options.BaseUrl, options.PublicKey, options.SecretKey, TimeProvider.System);
        _metrics = new LangfuseMetrics();
        _exporter = new LangfuseExporter(
            _api,
            options,
            new ObservationPreparer(options, NullLogger.Instance),
            new ResilientSender(options, TimeProvider.System, _metrics, NullLogger.Instance),
            resourceInfo,
            _metrics,
            NullLogger.Instance);

        // OpenTelemetry: the same spans as Activities (AllDataAndRecorded), under one parent, stopped.
        _source = new ActivitySource(SourceName, LangfuseTracer.SdkVersion);
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_listener);
        var first = _prepared[0];
        _activities = new Activity[SpanCount];
        using (var parent = _source.StartActivity("agent-run"))
        {
            for (var i = 0; i < SpanCount; i++)
            {
                var activity = _source.StartActivity("search-docs")!;
                activity.SetTag("langfuse.observation.type", "span");
                activity.SetTag("langfuse.observation.input", first.Input);
                activity.SetTag("langfuse.observation.output", first.Output);
                activity.SetTag("langfuse.observation.metadata", first.Metadata);
                activity.SetTag("langfuse.version", first.Version);
                activity.SetTag("langfuse.trace.name", first.TraceName);
                activity.SetTag("langfuse.user.id", first.UserId);
                activity.SetTag("langfuse.session.id", first.SessionId);
                activity.SetTag("langfuse.environment", first.Environment);
                activity.Stop();
                _activities[i] = activity;
            }
        }

        var resource = ResourceBuilder.CreateDefault().AddService("bench", serviceInstanceId: instanceId).Build();
        _otelExporter = new OtlpTraceExporter(new OtlpExporterOptions
        {
            Protocol = OtlpExportProtocol.HttpProtobuf,
            Endpoint = new Uri("http://127.0.0.1:1/v1/traces"),
            HttpClientFactory = () => new HttpClient(_handler, disposeHandler: false),
        });
        SetInternal(_otelExporter, "Resource", resource);

        var serializer = typeof(OtlpTraceExporter).Assembly.GetType("OpenTelemetry.Exporter.OpenTelemetryProtocol.Implementation.Serializer.ProtobufOtlpTraceSerializer", throwOnError: true)!;
        _writeTraceData = serializer.GetMethod("WriteTraceData", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!;
        var limits = typeof(OtlpTraceExporter).GetField("sdkLimitOptions", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(_otelExporter);
        _writeTraceDataArgs = [new byte[64 * 1024], 0, limits, resource, new Batch<Activity>(_activities, _activities.Length), 256 * 1024 * 1024];

        // Same sizes on both sides?
        var ours = _encoder.Encode(_prepared).Length;
        var theirs = OTel_SerializerOnly();
        Console.WriteLine($"// [Encoding] request bytes: Langfuse={ours:N0}, OpenTelemetry={theirs:N0}");
        if (_otelExporter.Export(new Batch<Activity>(_activities, _activities.Length)) != ExportResult.Success)
        {
            throw new InvalidOperationException("OpenTelemetry's exporter did not succeed against the draining handler.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// [Encoding] http requests={_handler!.Requests:N0}, bytes={_handler.Bytes:N0}; Langfuse exporter: {_metrics!.Snapshot()}");
        _otelExporter?.Dispose();
        _exporter?.Dispose();
        _encoder?.Dispose();
        _listener?.Dispose();
        _source?.Dispose();
        _http?.Dispose();
        _handler.Dispose();
    }

    [Benchmark(Baseline = true)]
    public ExportResult OTel_ExporterExport() => _otelExporter!.Export(new Batch<Activity>(_activities, _activities.Length));

    [Benchmark]
    public int OTel_SerializerOnly() => (int)_writeTraceData!.Invoke(null, _writeTraceDataArgs)!;

    [Benchmark]
    public int Langfuse_EncodeOnly() => _encoder!.EncodeUpTo(_prepared, 0, 2_500_000, out _).Length;

    [Benchmark]
    public async Task<int> Langfuse_EncodeAndHttpContent()
    {
        var body = _encoder!.EncodeUpTo(_prepared, 0, 2_500_000, out _);
        using var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = ProtobufContentType;
        using var request = new HttpRequestMessage(HttpMethod.Post, OtlpUri) { Content = content };
        using var response = await _http!.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return (int)response.StatusCode;
    }

    [Benchmark]
    public async Task<int> Langfuse_EncodeAndApiClient()
    {
        var body = _encoder!.EncodeUpTo(_prepared, 0, 2_500_000, out _);
        var response = await _api!.PostOtlpTracesAsync(body, CancellationToken.None);
        return response.StatusCode;
    }

    [Benchmark]
    public Task Langfuse_ExporterExportAsync() => _exporter!.ExportAsync(_items, CancellationToken.None);

    private static void SetInternal(object target, string property, object value) =>
        target.GetType().GetProperty(property, BindingFlags.Instance | BindingFlags.NonPublic)!.SetValue(target, value);
}
