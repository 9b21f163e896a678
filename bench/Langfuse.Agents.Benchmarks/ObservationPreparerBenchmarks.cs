using BenchmarkDotNet.Attributes;
using Langfuse.Agents.Internal.Export;
using Microsoft.Extensions.Logging.Abstractions;

namespace Langfuse.Agents.Benchmarks;

/// <summary>
/// Informational (no baseline): <c>ObservationPreparer.Prepare</c>, the background step that turns an ended
/// observation into strings (mask, JSON serialization, per-item size limit), per observation.
/// <list type="bullet">
/// <item><c>StringValues</c>: input/output are strings (kept as they are) and one metadata entry (serialized to JSON).</item>
/// <item><c>ObjectValues</c>: input is a chat message list and output a record, serialized with System.Text.Json
/// (reflection-based resolver, the SDK's default), plus the same metadata.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
public class ObservationPreparerBenchmarks
{
    private LangfuseObservation? _strings;
    private LangfuseObservation? _objects;
    private ObservationPreparer? _preparer;

    [GlobalSetup]
    public void Setup()
    {
        var options = new LangfuseOptions { Environment = "production" };
        _preparer = new ObservationPreparer(options, NullLogger.Instance);
        using var offline = new LangfuseTracer(new LangfuseOptions { TracingEnabled = false }, NullLoggerFactory.Instance);
        using var root = offline.StartTrace("agent-run", sessionId: "session-42", userId: "user-7");

        _strings = root.StartSpan("search-docs");
        _strings.Input = BenchData.Input;
        _strings.Output = BenchData.Output;
        _strings.Version = BenchData.Version;
        _strings.SetMetadata(BenchData.MetadataKey, BenchData.MetadataValue);
        _strings.End();

        _objects = root.StartGeneration("chat", BenchData.Model);
        _objects.Input = new List<ChatMessage>
        {
            new("system", "You are a research assistant. Cite section titles."),
            new("user", BenchData.Input),
        };
        _objects.Output = new ChatCompletion("assistant", BenchData.Output, "stop", 48);
        _objects.Version = BenchData.Version;
        _objects.SetMetadata(BenchData.MetadataKey, BenchData.MetadataValue);
        ((LangfuseGeneration)_objects).SetUsage(120, 48, 168);
        _objects.End();
    }

    [Benchmark]
    public object? StringValues() => _preparer!.Prepare(_strings!);

    [Benchmark]
    public object? ObjectValues() => _preparer!.Prepare(_objects!);

    public sealed record ChatMessage(string Role, string Content);

    public sealed record ChatCompletion(string Role, string Content, string FinishReason, int CompletionTokens);
}
