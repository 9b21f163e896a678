using Langfuse.Agents.Internal.Export;

namespace Langfuse.Agents.Tests.Export;

/// <summary>Prepared observations and scores for the encoder tests.</summary>
internal static class ExportSamples
{
    public const ulong TraceHigh = 0xc839a403cbf9db02;
    public const ulong TraceLow = 0xd69c8baa704ebeda;
    public const string TraceHex = "c839a403cbf9db02d69c8baa704ebeda";
    public const ulong RootSpan = 0x4b49e05982b2d55a;
    public const string RootSpanHex = "4b49e05982b2d55a";
    public const ulong ChildSpan = 0x364d252163b4424b;
    public const string ChildSpanHex = "364d252163b4424b";

    public static readonly DateTimeOffset Start = new(2026, 11, 21, 5, 38, 59, 631, TimeSpan.Zero);

    /// <summary>A generation with every field set.</summary>
    public static PreparedObservation FullGeneration(Action<PreparedObservationBuilder>? configure = null)
    {
        var builder = new PreparedObservationBuilder();
        configure?.Invoke(builder);
        return builder.Build();
    }

    /// <summary>A bare observation with only the required fields.</summary>
    public static PreparedObservation Minimal(
        ulong spanId,
        ulong parentSpanId = 0,
        ObservationType type = ObservationType.Span,
        ulong traceHigh = TraceHigh,
        ulong traceLow = TraceLow,
        string name = "step",
        bool isLocalRoot = false,
        DateTimeOffset? start = null,
        string? input = null,
        string? traceName = null) => new()
    {
        TraceIdHigh = traceHigh,
        TraceIdLow = traceLow,
        SpanId = spanId,
        ParentSpanId = parentSpanId,
        Type = type,
        Name = name,
        StartTime = start ?? Start,
        EndTime = (start ?? Start).AddMilliseconds(250),
        IsLocalRoot = isLocalRoot,
        Input = input,
        TraceName = traceName,
    };

    public static PreparedScore Score(
        string id = "score-1",
        ScoreValue? value = null,
        string? traceId = TraceHex,
        string? observationId = null,
        string? sessionId = null) => new()
    {
        Id = id,
        EventId = id + "-event",
        Name = "quality",
        Value = value ?? ScoreValue.Numeric(0.87),
        Timestamp = Start.AddSeconds(5),
        TraceId = traceId,
        ObservationId = observationId,
        SessionId = sessionId,
        Comment = "looks right",
        Metadata = """{"judge":"gpt-4o"}""",
        Environment = "production",
    };

    /// <summary>Mutable defaults for a fully populated generation.</summary>
    internal sealed class PreparedObservationBuilder
    {
        public ulong ParentSpanId { get; set; } = RootSpan;

        public bool ParentIsRemote { get; set; }

        public bool Sampled { get; set; } = true;

        public ObservationType Type { get; set; } = ObservationType.Generation;

        public ObservationLevel Level { get; set; } = ObservationLevel.Warning;

        public string? Input { get; set; } = """[{"role":"user","content":"hi"}]""";

        public bool InputIsPlainString { get; set; }

        public string? Output { get; set; } = "plan text";

        public bool OutputIsPlainString { get; set; } = true;

        public string? Version { get; set; } = "obs-v1";

        public RecordedException? Exception { get; set; }

        public bool IsLocalRoot { get; set; }

        public string? PromptName { get; set; } = "planner";

        public int? PromptVersion { get; set; } = 3;

        public IReadOnlyList<string>? Tags { get; set; } = ["alpha", "β-tag"];

        public string? Metadata { get; set; } = """{"k":"v","n":1}""";

        public string? TraceInput { get; set; }

        public string? TraceOutput { get; set; }

        public string? Name { get; set; } = "plan";

        public PreparedObservation Build() => new()
        {
            TraceIdHigh = TraceHigh,
            TraceIdLow = TraceLow,
            SpanId = ChildSpan,
            ParentSpanId = ParentSpanId,
            ParentIsRemote = ParentIsRemote,
            Sampled = Sampled,
            Type = Type,
            Name = Name!,
            StartTime = Start,
            EndTime = Start.AddMilliseconds(1234.5678),
            Input = Input,
            InputIsPlainString = InputIsPlainString,
            Output = Output,
            OutputIsPlainString = OutputIsPlainString,
            Metadata = Metadata,
            Level = Level,
            StatusMessage = "slow answer",
            Version = Version,
            Exception = Exception,
            Model = "gpt-4o",
            ModelParameters = """{"temperature":0.2}""",
            UsageDetails = """{"input":10,"output":20,"total":30}""",
            CostDetails = """{"total":0.0012}""",
            CompletionStartTime = Start.AddMilliseconds(300),
            PromptName = PromptName,
            PromptVersion = PromptVersion,
            TraceName = "research-query",
            UserId = "u1",
            SessionId = "s1",
            Tags = Tags,
            TraceMetadata = """{"tenant":"acme"}""",
            TracePublic = true,
            Release = "1.2.3",
            TraceVersion = "trace-v1",
            Environment = "production",
            TraceInput = TraceInput,
            TraceOutput = TraceOutput,
            TraceInputIsPlainString = true,
            IsLocalRoot = IsLocalRoot,
        };
    }
}
