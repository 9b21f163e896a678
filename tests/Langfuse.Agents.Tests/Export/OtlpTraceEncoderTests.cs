using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;
using Langfuse.Agents.Testing.Otlp.Common.V1;
using Langfuse.Agents.Testing.Otlp.Trace.V1;
using Shouldly;
using Xunit;
using static Langfuse.Agents.Tests.Export.ExportSamples;

// Test names follow the house style Method_Condition_Result (STYLE.md, item 13).
#pragma warning disable CA1707

namespace Langfuse.Agents.Tests.Export;

public sealed class OtlpTraceEncoderTests
{
    private static readonly OtlpResourceInfo Resource = new(
        "checkout-agent",
        "instance-7",
        "0.1.0",
        [new("deployment.environment", "prod"), new("service.name", "ignored")]);

    [Fact]
    public void Encode_WritesOneResourceAndTheLangfuseScope()
    {
        var request = EncodeAndParse(Minimal(RootSpan));

        request.ResourceSpans.Count.ShouldBe(1);
        var resource = request.ResourceSpans[0].Resource.Attributes.ToDictionary(a => a.Key, a => a.Value.StringValue);
        resource.ShouldBe(new Dictionary<string, string>
        {
            ["service.name"] = "checkout-agent",
            ["service.instance.id"] = "instance-7",
            ["telemetry.sdk.name"] = "langfuse-agents-dotnet",
            ["telemetry.sdk.language"] = "dotnet",
            ["telemetry.sdk.version"] = "0.1.0",
            ["deployment.environment"] = "prod",
        });
        request.ResourceSpans[0].ScopeSpans.Count.ShouldBe(1);
        request.ResourceSpans[0].ScopeSpans[0].Scope.Name.ShouldBe("langfuse-sdk");
        request.ResourceSpans[0].ScopeSpans[0].Scope.Version.ShouldBe("0.1.0");
    }

    [Fact]
    public void Encode_WritesIdsTimesKindAndFlags()
    {
        var span = EncodeAndParse(FullGeneration()).ResourceSpans[0].ScopeSpans[0].Spans.ShouldHaveSingleItem();

        Convert.ToHexStringLower(span.TraceId.ToByteArray()).ShouldBe(TraceHex);
        Convert.ToHexStringLower(span.SpanId.ToByteArray()).ShouldBe(ChildSpanHex);
        Convert.ToHexStringLower(span.ParentSpanId.ToByteArray()).ShouldBe(RootSpanHex);
        span.Name.ShouldBe("plan");
        span.Kind.ShouldBe(Span.Types.SpanKind.Internal);
        span.StartTimeUnixNano.ShouldBe((ulong)Start.ToUnixTimeMilliseconds() * 1_000_000);
        span.EndTimeUnixNano.ShouldBe(((ulong)Start.ToUnixTimeMilliseconds() * 1_000_000) + 1_234_567_800);
        span.Flags.ShouldBe(0x101u);
    }

    [Theory]
    [InlineData(true, false, 0x101u)]
    [InlineData(false, false, 0x100u)]
    [InlineData(true, true, 0x301u)]
    [InlineData(false, true, 0x300u)]
    public void Encode_Flags_CarrySampledAndRemoteParent(bool sampled, bool remote, uint expected)
    {
        var span = SingleSpan(FullGeneration(b =>
        {
            b.Sampled = sampled;
            b.ParentIsRemote = remote;
        }));
        span.Flags.ShouldBe(expected);
    }

    [Fact]
    public void Encode_Root_HasNoParentSpanId()
    {
        var span = SingleSpan(Minimal(RootSpan));
        span.ParentSpanId.IsEmpty.ShouldBeTrue();
    }

    [Fact]
    public void Encode_FullGeneration_WritesEveryAttribute()
    {
        var span = SingleSpan(FullGeneration());
        var attributes = span.Attributes.ToDictionary(a => a.Key, a => a.Value);

        attributes["langfuse.observation.type"].StringValue.ShouldBe("generation");
        attributes["langfuse.observation.input"].StringValue.ShouldBe("""[{"role":"user","content":"hi"}]""");
        attributes["langfuse.observation.output"].StringValue.ShouldBe("plan text");
        attributes["langfuse.observation.metadata"].StringValue.ShouldBe("""{"k":"v","n":1}""");
        attributes["langfuse.observation.level"].StringValue.ShouldBe("WARNING");
        attributes["langfuse.observation.status_message"].StringValue.ShouldBe("slow answer");
        attributes["langfuse.version"].StringValue.ShouldBe("obs-v1");
        attributes["langfuse.observation.model.name"].StringValue.ShouldBe("gpt-4o");
        attributes["langfuse.observation.model.parameters"].StringValue.ShouldBe("""{"temperature":0.2}""");
        attributes["langfuse.observation.usage_details"].StringValue.ShouldBe("""{"input":10,"output":20,"total":30}""");
        attributes["langfuse.observation.cost_details"].StringValue.ShouldBe("""{"total":0.0012}""");
        attributes["langfuse.observation.completion_start_time"].StringValue.ShouldBe("2026-11-21T05:38:59.931Z");
        attributes["langfuse.observation.prompt.name"].StringValue.ShouldBe("planner");
        attributes["langfuse.observation.prompt.version"].IntValue.ShouldBe(3);
        attributes["langfuse.trace.name"].StringValue.ShouldBe("research-query");
        attributes["langfuse.user.id"].StringValue.ShouldBe("u1");
        attributes["langfuse.session.id"].StringValue.ShouldBe("s1");
        attributes["langfuse.trace.tags"].ArrayValue.Values.Select(v => v.StringValue).ShouldBe(["alpha", "β-tag"]);
        attributes["langfuse.trace.metadata"].StringValue.ShouldBe("""{"tenant":"acme"}""");
        attributes["langfuse.trace.public"].ValueCase.ShouldBe(AnyValue.ValueOneofCase.BoolValue);
        attributes["langfuse.trace.public"].BoolValue.ShouldBeTrue();
        attributes["langfuse.release"].StringValue.ShouldBe("1.2.3");
        attributes["langfuse.environment"].StringValue.ShouldBe("production");

        // Not the local root: no trace input/output.
        attributes.ShouldNotContainKey("langfuse.trace.input");
        attributes.ShouldNotContainKey("langfuse.trace.output");
        span.Attributes.Select(a => a.Key).ShouldBeUnique();
        span.Events.ShouldBeEmpty();
        span.Status.ShouldBeNull();
    }

    [Fact]
    public void Encode_MinimalObservation_WritesOnlyTheType()
    {
        var span = SingleSpan(Minimal(RootSpan, type: ObservationType.Retriever));
        var attribute = span.Attributes.ShouldHaveSingleItem();
        attribute.Key.ShouldBe("langfuse.observation.type");
        attribute.Value.StringValue.ShouldBe("retriever");
    }

    [Theory]
    [InlineData(ObservationType.Span, "span")]
    [InlineData(ObservationType.Generation, "generation")]
    [InlineData(ObservationType.Event, "event")]
    [InlineData(ObservationType.Agent, "agent")]
    [InlineData(ObservationType.Tool, "tool")]
    [InlineData(ObservationType.Chain, "chain")]
    [InlineData(ObservationType.Retriever, "retriever")]
    [InlineData(ObservationType.Embedding, "embedding")]
    [InlineData(ObservationType.Evaluator, "evaluator")]
    [InlineData(ObservationType.Guardrail, "guardrail")]
    public void Encode_ObservationType_IsLowercaseName(ObservationType type, string expected)
    {
        Attributes(SingleSpan(Minimal(RootSpan, type: type)))["langfuse.observation.type"].StringValue.ShouldBe(expected);
    }

    [Theory]
    [InlineData(ObservationLevel.Debug, "DEBUG")]
    [InlineData(ObservationLevel.Warning, "WARNING")]
    [InlineData(ObservationLevel.Error, "ERROR")]
    [InlineData(ObservationLevel.Default, null)]
    public void Encode_Level_IsUppercaseAndDefaultIsLeftOut(ObservationLevel level, string? expected)
    {
        var attributes = Attributes(SingleSpan(FullGeneration(b => b.Level = level)));
        if (expected is null)
        {
            attributes.ShouldNotContainKey("langfuse.observation.level");
        }
        else
        {
            attributes["langfuse.observation.level"].StringValue.ShouldBe(expected);
        }
    }

    [Fact]
    public void Encode_ErrorLevel_SetsErrorStatusWithMessage()
    {
        var span = SingleSpan(FullGeneration(b => b.Level = ObservationLevel.Error));
        span.Status.ShouldNotBeNull();
        span.Status.Code.ShouldBe(Status.Types.StatusCode.Error);
        span.Status.Message.ShouldBe("slow answer");
    }

    [Fact]
    public void Encode_Exception_WritesExceptionEventAtEndTime()
    {
        var observation = FullGeneration(b =>
        {
            b.Level = ObservationLevel.Error;
            b.Exception = new RecordedException("System.TimeoutException", "The model did not answer.", "   at Agent.Plan()\n   at Agent.Run()");
        });
        var span = SingleSpan(observation);

        var ev = span.Events.ShouldHaveSingleItem();
        ev.Name.ShouldBe("exception");
        ev.TimeUnixNano.ShouldBe(span.EndTimeUnixNano);
        var attributes = ev.Attributes.ToDictionary(a => a.Key, a => a.Value.StringValue);
        attributes.ShouldBe(new Dictionary<string, string>
        {
            ["exception.type"] = "System.TimeoutException",
            ["exception.message"] = "The model did not answer.",
            ["exception.stacktrace"] = "   at Agent.Plan()\n   at Agent.Run()",
        });
    }

    [Fact]
    public void Encode_ExceptionWithoutStackTrace_LeavesStackTraceOut()
    {
        var span = SingleSpan(FullGeneration(b => b.Exception = new RecordedException("E", "m", null)));
        span.Events.ShouldHaveSingleItem().Attributes.Select(a => a.Key).ShouldBe(["exception.type", "exception.message"]);
    }

    [Fact]
    public void Encode_Version_FallsBackToTraceVersion()
    {
        Attributes(SingleSpan(FullGeneration(b => b.Version = null)))["langfuse.version"].StringValue.ShouldBe("trace-v1");
    }

    [Fact]
    public void Encode_PromptNameWithoutVersion_LeavesBothOut()
    {
        var attributes = Attributes(SingleSpan(FullGeneration(b => b.PromptVersion = null)));
        attributes.ShouldNotContainKey("langfuse.observation.prompt.name");
        attributes.ShouldNotContainKey("langfuse.observation.prompt.version");
    }

    [Fact]
    public void Encode_LocalRoot_CarriesTraceInputAndOutput()
    {
        var attributes = Attributes(SingleSpan(FullGeneration(b =>
        {
            b.IsLocalRoot = true;
            b.ParentSpanId = 0;
            b.TraceInput = "What is new in quantum computing?";
            b.TraceOutput = """{"answer":"qubits"}""";
        })));
        attributes["langfuse.trace.input"].StringValue.ShouldBe("What is new in quantum computing?");
        attributes["langfuse.trace.output"].StringValue.ShouldBe("""{"answer":"qubits"}""");
    }

    [Fact]
    public void Encode_EmptyTags_AreLeftOut()
    {
        Attributes(SingleSpan(FullGeneration(b => b.Tags = []))).ShouldNotContainKey("langfuse.trace.tags");
    }

    [Fact]
    public void Encode_UnicodeStrings_AreUtf8()
    {
        const string text = "日本語 — Ünïcødé 🚀 \"quotes\" \\ \n\t";
        var span = SingleSpan(FullGeneration(b =>
        {
            b.Name = text;
            b.Output = text;
            b.Tags = [text];
        }));
        span.Name.ShouldBe(text);
        Attributes(span)["langfuse.observation.output"].StringValue.ShouldBe(text);
        Attributes(span)["langfuse.trace.tags"].ArrayValue.Values.ShouldHaveSingleItem().StringValue.ShouldBe(text);
    }

    [Fact]
    public void Encode_OneMegabyteInput_RoundTrips()
    {
        var input = "\"" + new string('x', 1_048_576) + "é\"";
        using var encoder = new OtlpTraceEncoder(Resource, initialBufferBytes: 1024);
        var bytes = encoder.Encode([FullGeneration(b => b.Input = input)]);
        bytes.Length.ShouldBeGreaterThan(1_048_576);
        var span = ExportTraceServiceRequest.Parser.ParseFrom(bytes.Span).ResourceSpans[0].ScopeSpans[0].Spans.ShouldHaveSingleItem();
        Attributes(span)["langfuse.observation.input"].StringValue.ShouldBe(input);
    }

    [Fact]
    public void Encode_SameBatchTwice_GivesIdenticalBytes()
    {
        IReadOnlyList<PreparedObservation> batch =
        [
            FullGeneration(b => b.Exception = new RecordedException("E", "m", "s")),
            Minimal(RootSpan, isLocalRoot: true, traceName: "t"),
            Minimal(0x1234, parentSpanId: RootSpan, type: ObservationType.Tool, input: "{\"q\":1}"),
        ];
        using var encoder = new OtlpTraceEncoder(Resource);
        var first = encoder.Encode(batch).ToArray();
        var second = encoder.Encode(batch).ToArray();
        second.ShouldBe(first);

        using var other = new OtlpTraceEncoder(Resource);
        other.Encode(batch).ToArray().ShouldBe(first);
    }

    [Fact]
    public void Encode_ManySpans_KeepsOrderAndCount()
    {
        var batch = Enumerable.Range(1, 200).Select(i => Minimal((ulong)i, parentSpanId: RootSpan, name: $"s{i}")).ToList();
        var spans = EncodeAndParse(batch.ToArray()).ResourceSpans[0].ScopeSpans[0].Spans;
        spans.Select(s => s.Name).ShouldBe(batch.Select(o => o.Name));
    }

    [Fact]
    public void Encode_Range_EncodesOnlyThatRange()
    {
        var batch = Enumerable.Range(1, 10).Select(i => Minimal((ulong)i, name: $"s{i}")).ToList();
        using var encoder = new OtlpTraceEncoder(Resource);
        var spans = ExportTraceServiceRequest.Parser.ParseFrom(encoder.Encode(batch, 3, 4).Span).ResourceSpans[0].ScopeSpans[0].Spans;
        spans.Select(s => s.Name).ShouldBe(["s4", "s5", "s6", "s7"]);
        Should.Throw<ArgumentOutOfRangeException>(() => encoder.Encode(batch, 8, 3));
    }

    [Fact]
    public void Encode_WithByteLimit_SplitsIntoRequestsUnderTheLimitWithoutLosingSpans()
    {
        var batch = Enumerable.Range(1, 300)
            .Select(i => Minimal((ulong)i, name: $"s{i}", input: new string('a', (i * 37) % 3000)))
            .ToList();
        const int limit = 32 * 1024;
        using var encoder = new OtlpTraceEncoder(Resource);

        var names = new List<string>();
        var requests = 0;
        for (var start = 0; start < batch.Count;)
        {
            var bytes = encoder.EncodeUpTo(batch, start, limit, out var count);
            count.ShouldBeGreaterThan(0);
            bytes.Length.ShouldBeLessThanOrEqualTo(limit);
            var spans = ExportTraceServiceRequest.Parser.ParseFrom(bytes.Span).ResourceSpans[0].ScopeSpans[0].Spans;
            spans.Count.ShouldBe(count);
            names.AddRange(spans.Select(s => s.Name));
            start += count;
            requests++;
        }

        names.ShouldBe(batch.Select(o => o.Name));
        requests.ShouldBeGreaterThan(1);
    }

    [Fact]
    public void Encode_WithByteLimit_SendsAnOversizedSpanAlone()
    {
        var batch = new List<PreparedObservation>
        {
            Minimal(1, name: "small"),
            Minimal(2, name: "huge", input: new string('z', 50_000)),
            Minimal(3, name: "after"),
        };
        using var encoder = new OtlpTraceEncoder(Resource);

        encoder.EncodeUpTo(batch, 0, 10_000, out var first);
        first.ShouldBe(1);
        var huge = encoder.EncodeUpTo(batch, 1, 10_000, out var second);
        second.ShouldBe(1);
        huge.Length.ShouldBeGreaterThan(10_000);
        encoder.EncodeUpTo(batch, 2, 10_000, out var third);
        third.ShouldBe(1);
    }

    [Fact]
    public void EstimateSize_IsAnUpperBoundOfTheEncodedSpan()
    {
        using var encoder = new OtlpTraceEncoder(Resource);
        var empty = encoder.Encode([]).Length;
        empty.ShouldBe(encoder.EmptyRequestBytes);
        foreach (var observation in new[]
        {
            Minimal(RootSpan),
            FullGeneration(),
            FullGeneration(b =>
            {
                b.Level = ObservationLevel.Error;
                b.Exception = new RecordedException("E", "message", "stack");
                b.IsLocalRoot = true;
                b.TraceInput = "ïn";
                b.TraceOutput = "out";
                b.Input = new string('€', 10_000);
            }),
        })
        {
            var spanBytes = encoder.Encode([observation]).Length - empty;
            var estimate = OtlpTraceEncoder.EstimateSize(observation);
            estimate.ShouldBeGreaterThanOrEqualTo(spanBytes);
            estimate.ShouldBeLessThan((spanBytes * 2) + 200);
        }
    }

    [Fact]
    public void Encode_SteadyState_DoesNotAllocate()
    {
        var batch = new List<PreparedObservation> { FullGeneration(b => b.Exception = new RecordedException("E", "m", "s")), Minimal(RootSpan) };
        using var encoder = new OtlpTraceEncoder(Resource);
        encoder.Encode(batch);
        var before = GC.GetAllocatedBytesForCurrentThread();
        encoder.Encode(batch);
        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }

    private static ExportTraceServiceRequest EncodeAndParse(params PreparedObservation[] items)
    {
        using var encoder = new OtlpTraceEncoder(Resource);
        return ExportTraceServiceRequest.Parser.ParseFrom(encoder.Encode(items).Span);
    }

    private static Span SingleSpan(PreparedObservation observation) =>
        EncodeAndParse(observation).ResourceSpans[0].ScopeSpans[0].Spans.ShouldHaveSingleItem();

    private static Dictionary<string, AnyValue> Attributes(Span span) => span.Attributes.ToDictionary(a => a.Key, a => a.Value);
}
