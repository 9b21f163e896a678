using System.Text;
using System.Text.Json;
using Langfuse.Agents.Internal.Export;
using Shouldly;
using Xunit;
using static Langfuse.Agents.Tests.Export.ExportSamples;

// Test names follow the house style Method_Condition_Result (STYLE.md, item 13).
#pragma warning disable CA1707

namespace Langfuse.Agents.Tests.Export;

public sealed class LegacyBatchEncoderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 5, 39, 1, 0, TimeSpan.Zero);
    private static readonly PreparedScore[] NoScores = [];
    private static readonly PreparedObservation[] NoObservations = [];

    [Fact]
    public void Encode_Nothing_ReturnsNoRequest()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        encoder.Encode(NoObservations, NoScores, Now).ShouldBeEmpty();
    }

    [Fact]
    public void Encode_WritesBatchAndMetadata()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var request = encoder.Encode([Minimal(RootSpan, isLocalRoot: true)], [Score()], Now).ShouldHaveSingleItem();
        using var json = Parse(request);

        var metadata = json.RootElement.GetProperty("metadata");
        metadata.GetProperty("batch_size").GetInt32().ShouldBe(3);
        metadata.GetProperty("sdk_name").GetString().ShouldBe("langfuse-agents-dotnet");
        metadata.GetProperty("sdk_version").GetString().ShouldBe("0.1.0");
        Events(json).Select(e => e.GetProperty("type").GetString()).ShouldBe(["trace-create", "span-create", "score-create"]);
        request.Events.Select(e => e.Kind).ShouldBe([LegacyEventKind.Trace, LegacyEventKind.Observation, LegacyEventKind.Score]);
        Events(json).Select(e => e.GetProperty("id").GetString()).ShouldBe(request.Events.Select(e => e.EventId));
    }

    [Fact]
    public void Encode_EveryEvent_HasEnvelopeFieldsAndABodyId()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var request = encoder.Encode(
            [FullGeneration(), Minimal(RootSpan, isLocalRoot: true), Minimal(0x77, parentSpanId: RootSpan, type: ObservationType.Event)],
            [Score()],
            Now).ShouldHaveSingleItem();
        using var json = Parse(request);

        foreach (var e in Events(json))
        {
            e.GetProperty("id").GetString().ShouldNotBeNullOrEmpty();
            e.GetProperty("type").GetString().ShouldNotBeNullOrEmpty();
            e.GetProperty("timestamp").GetString()!.ShouldEndWith("Z");
            e.GetProperty("body").GetProperty("id").GetString().ShouldNotBeNullOrEmpty();
            var type = e.GetProperty("type").GetString()!;
            if (type is not "trace-create" and not "score-create")
            {
                e.GetProperty("body").GetProperty("traceId").GetString().ShouldBe(TraceHex);
            }
        }
    }

    [Fact]
    public void Encode_TraceCreate_ComesBeforeTheTracesObservations_OncePerTrace()
    {
        const ulong otherHigh = 0x1111;
        const ulong otherLow = 0x2222;
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var request = encoder.Encode(
            [
                Minimal(1, parentSpanId: RootSpan),
                Minimal(2, traceHigh: otherHigh, traceLow: otherLow),
                Minimal(3, parentSpanId: RootSpan),
                Minimal(RootSpan, isLocalRoot: true),
            ],
            NoScores,
            Now).ShouldHaveSingleItem();
        using var json = Parse(request);
        var events = Events(json);

        events.Select(e => e.GetProperty("type").GetString()).ShouldBe(
            ["trace-create", "span-create", "trace-create", "span-create", "span-create", "span-create"]);
        events[0].GetProperty("body").GetProperty("id").GetString().ShouldBe(TraceHex);
        events[2].GetProperty("body").GetProperty("id").GetString().ShouldBe("00000000000011110000000000002222");
        events[3].GetProperty("body").GetProperty("traceId").GetString().ShouldBe("00000000000011110000000000002222");
    }

    [Fact]
    public void Encode_TraceCreate_UsesLocalRootValuesAndEarliestStart()
    {
        var earliest = Start.AddSeconds(-3);
        using var encoder = new LegacyBatchEncoder("0.1.0", () => Guid.Parse("01c15207-d4e1-4694-9688-4a14b3209c72"));
        var root = FullGeneration(b =>
        {
            b.IsLocalRoot = true;
            b.ParentSpanId = 0;
            b.TraceInput = "What is new in quantum computing?";
            b.TraceOutput = """{"answer":"qubits"}""";
        });
        var request = encoder.Encode(
            [Minimal(1, parentSpanId: ChildSpan, start: earliest, traceName: "child's stale name"), root],
            NoScores,
            Now).ShouldHaveSingleItem();
        using var json = Parse(request);

        var trace = Events(json)[0];
        trace.GetProperty("id").GetString().ShouldBe("01c15207-d4e1-4694-9688-4a14b3209c72");
        trace.GetProperty("type").GetString().ShouldBe("trace-create");
        trace.GetProperty("timestamp").GetString().ShouldBe("2026-11-21T05:39:01.000Z");
        var body = trace.GetProperty("body");
        body.GetProperty("id").GetString().ShouldBe(TraceHex);
        body.GetProperty("timestamp").GetString().ShouldBe("2026-11-21T05:38:56.631Z");
        body.GetProperty("name").GetString().ShouldBe("research-query");
        body.GetProperty("userId").GetString().ShouldBe("u1");
        body.GetProperty("sessionId").GetString().ShouldBe("s1");
        body.GetProperty("input").GetString().ShouldBe("What is new in quantum computing?");
        body.GetProperty("output").GetProperty("answer").GetString().ShouldBe("qubits");
        body.GetProperty("metadata").GetProperty("tenant").GetString().ShouldBe("acme");
        body.GetProperty("release").GetString().ShouldBe("1.2.3");
        body.GetProperty("version").GetString().ShouldBe("trace-v1");
        body.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ShouldBe(["alpha", "β-tag"]);
        body.GetProperty("public").GetBoolean().ShouldBeTrue();
        body.GetProperty("environment").GetString().ShouldBe("production");
        request.Events[0].ItemIndex.ShouldBe(1);
    }

    [Fact]
    public void Encode_RootWithoutTraceInput_TraceCreateTakesTheRootsOwnInputAndOutput_AsOtlpDoes()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var root = FullGeneration(b =>
        {
            b.IsLocalRoot = true;
            b.ParentSpanId = 0;
            b.Input = """{"question":"q"}""";
            b.Output = "the answer";
            b.OutputIsPlainString = true;
        });

        using var json = Parse(encoder.Encode([root], NoScores, Now).ShouldHaveSingleItem());

        var body = Events(json)[0].GetProperty("body");
        body.GetProperty("input").GetProperty("question").GetString().ShouldBe("q");
        body.GetProperty("output").GetString().ShouldBe("the answer");
    }

    [Fact]
    public void Encode_LocalRootOfAContinuedTrace_GivesItsInputToNoTrace()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var calleeRoot = FullGeneration(b =>
        {
            b.IsLocalRoot = true;
            b.ParentSpanId = RootSpan; // the caller's span, in another process
            b.ParentIsRemote = true;
        });

        var request = encoder.Encode([calleeRoot], NoScores, Now).ShouldHaveSingleItem();

        using var json = Parse(request);
        Events(json).Select(e => e.GetProperty("type").GetString()).ShouldBe(["generation-create"],
            "the trace belongs to the process that started it: a callee exporting first must not fix its timestamp");
    }

    [Fact]
    public void Encode_TraceCreateTimestamp_IsTheLocalRootsStart_EvenWhenOnlyItsChildrenAreInTheBatch()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var rootStart = Start.AddSeconds(-7);
        var child = Minimal(1, parentSpanId: RootSpan, start: Start);
        child = new PreparedObservation
        {
            TraceIdHigh = child.TraceIdHigh, TraceIdLow = child.TraceIdLow, SpanId = child.SpanId, ParentSpanId = child.ParentSpanId,
            Type = child.Type, Name = child.Name, StartTime = child.StartTime, EndTime = child.EndTime, TraceStart = rootStart,
        };

        using var json = Parse(encoder.Encode([child], NoScores, Now).ShouldHaveSingleItem());

        Events(json)[0].GetProperty("body").GetProperty("timestamp").GetString().ShouldBe("2026-11-21T05:38:52.631Z");
    }

    [Fact]
    public void Encode_TraceCreateWithoutLocalRoot_UsesLastObservationAndNoInputOutput()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var request = encoder.Encode(
            [Minimal(1, traceName: "older"), Minimal(2, traceName: "newer")],
            NoScores,
            Now).ShouldHaveSingleItem();
        using var json = Parse(request);
        var body = Events(json)[0].GetProperty("body");
        body.GetProperty("name").GetString().ShouldBe("newer");
        body.TryGetProperty("input", out _).ShouldBeFalse();
        body.TryGetProperty("userId", out _).ShouldBeFalse();
        body.TryGetProperty("tags", out _).ShouldBeFalse();
        request.Events[0].ItemIndex.ShouldBe(1);
    }

    [Fact]
    public void Encode_TraceCreate_GetsAFreshEnvelopeIdEveryTime()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var first = encoder.Encode([Minimal(1)], NoScores, Now).ShouldHaveSingleItem().Events[0].EventId;
        var second = encoder.Encode([Minimal(1)], NoScores, Now).ShouldHaveSingleItem().Events[0].EventId;
        Guid.TryParse(first, out _).ShouldBeTrue();
        second.ShouldNotBe(first);
    }

    [Fact]
    public void Encode_Generation_WritesEveryField()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var request = encoder.Encode([FullGeneration()], NoScores, Now).ShouldHaveSingleItem();
        using var json = Parse(request);

        var e = Events(json)[1];
        e.GetProperty("id").GetString().ShouldBe(ChildSpanHex + "-create");
        request.Events[1].ShouldBe(new LegacyBatchEvent(ChildSpanHex + "-create", LegacyEventKind.Observation, 0));
        LegacyBatchEncoder.ObservationEventId(FullGeneration()).ShouldBe(ChildSpanHex + "-create");
        e.GetProperty("type").GetString().ShouldBe("generation-create");
        e.GetProperty("timestamp").GetString().ShouldBe("2026-11-21T05:39:00.865Z");
        var body = e.GetProperty("body");
        body.GetProperty("id").GetString().ShouldBe(ChildSpanHex);
        body.GetProperty("traceId").GetString().ShouldBe(TraceHex);
        body.GetProperty("parentObservationId").GetString().ShouldBe(RootSpanHex);
        body.GetProperty("name").GetString().ShouldBe("plan");
        body.GetProperty("startTime").GetString().ShouldBe("2026-11-21T05:38:59.631Z");
        body.GetProperty("endTime").GetString().ShouldBe("2026-11-21T05:39:00.865Z");
        body.GetProperty("completionStartTime").GetString().ShouldBe("2026-11-21T05:38:59.931Z");
        body.GetProperty("input")[0].GetProperty("role").GetString().ShouldBe("user");
        body.GetProperty("output").GetString().ShouldBe("plan text");
        body.GetProperty("metadata").GetProperty("n").GetInt32().ShouldBe(1);
        body.GetProperty("level").GetString().ShouldBe("WARNING");
        body.GetProperty("statusMessage").GetString().ShouldBe("slow answer");
        body.GetProperty("version").GetString().ShouldBe("obs-v1");
        body.GetProperty("environment").GetString().ShouldBe("production");
        body.GetProperty("model").GetString().ShouldBe("gpt-4o");
        body.GetProperty("modelParameters").GetProperty("temperature").GetDouble().ShouldBe(0.2);
        body.GetProperty("usageDetails").GetProperty("total").GetInt32().ShouldBe(30);
        body.GetProperty("costDetails").GetProperty("total").GetDouble().ShouldBe(0.0012);
        body.GetProperty("promptName").GetString().ShouldBe("planner");
        body.GetProperty("promptVersion").GetInt32().ShouldBe(3);
    }

    [Theory]
    [InlineData(ObservationType.Span, "span-create")]
    [InlineData(ObservationType.Generation, "generation-create")]
    [InlineData(ObservationType.Event, "event-create")]
    [InlineData(ObservationType.Agent, "agent-create")]
    [InlineData(ObservationType.Tool, "tool-create")]
    [InlineData(ObservationType.Chain, "chain-create")]
    [InlineData(ObservationType.Retriever, "retriever-create")]
    [InlineData(ObservationType.Embedding, "embedding-create")]
    [InlineData(ObservationType.Evaluator, "evaluator-create")]
    [InlineData(ObservationType.Guardrail, "guardrail-create")]
    public void Encode_ObservationType_MapsToCreateEvent(ObservationType type, string expected)
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        using var json = Parse(encoder.Encode([Minimal(1, type: type)], NoScores, Now).ShouldHaveSingleItem());
        var e = Events(json)[1];
        e.GetProperty("type").GetString().ShouldBe(expected);
        e.GetProperty("body").TryGetProperty("endTime", out _).ShouldBe(type != ObservationType.Event);
    }

    [Fact]
    public void Encode_MinimalObservation_WritesOnlySetFields()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        using var json = Parse(encoder.Encode([Minimal(RootSpan)], NoScores, Now).ShouldHaveSingleItem());
        Events(json)[1].GetProperty("body").EnumerateObject().Select(p => p.Name)
            .ShouldBe(["id", "traceId", "name", "startTime", "endTime"]);
    }

    [Fact]
    public void Encode_PromptNameWithoutVersion_LeavesBothOut()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        using var json = Parse(encoder.Encode([FullGeneration(b => b.PromptVersion = null)], NoScores, Now).ShouldHaveSingleItem());
        var body = Events(json)[1].GetProperty("body");
        body.TryGetProperty("promptName", out _).ShouldBeFalse();
        body.TryGetProperty("promptVersion", out _).ShouldBeFalse();
    }

    [Theory]
    [InlineData("{\"a\":1", false)]
    [InlineData("not json", false)]
    [InlineData("{} {}", false)]
    [InlineData("   ", false)]
    [InlineData("// c\n1", false)]
    [InlineData("\"a string\"", true)]
    [InlineData(" [1, 2] ", true)]
    public void Encode_InvalidJsonText_FallsBackToAString(string input, bool valid)
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var observation = FullGeneration(b =>
        {
            b.Input = input;
            b.InputIsPlainString = false;
            b.Metadata = input;
        });
        using var json = Parse(encoder.Encode([observation], NoScores, Now).ShouldHaveSingleItem());
        var body = Events(json)[1].GetProperty("body");
        if (valid)
        {
            body.GetProperty("input").GetRawText().ShouldBe(input.Trim());
        }
        else
        {
            body.GetProperty("input").GetString().ShouldBe(input);
            body.GetProperty("metadata").GetString().ShouldBe(input);
        }
    }

    [Fact]
    public void Encode_InvalidUsageOrCost_IsLeftOut()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var observation = new PreparedObservation
        {
            TraceIdHigh = TraceHigh,
            TraceIdLow = TraceLow,
            SpanId = 5,
            Type = ObservationType.Generation,
            Name = "g",
            StartTime = Start,
            EndTime = Start,
            UsageDetails = "{broken",
            CostDetails = "",
            ModelParameters = "nope",
        };
        using var json = Parse(encoder.Encode([observation], NoScores, Now).ShouldHaveSingleItem());
        var body = Events(json)[1].GetProperty("body");
        body.TryGetProperty("usageDetails", out _).ShouldBeFalse();
        body.TryGetProperty("costDetails", out _).ShouldBeFalse();
        body.TryGetProperty("modelParameters", out _).ShouldBeFalse();
    }

    [Fact]
    public void Encode_PlainStringThatLooksLikeJson_StaysAString()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        using var json = Parse(encoder.Encode([FullGeneration(b => { b.Output = "{\"a\":1}"; b.OutputIsPlainString = true; })], NoScores, Now).ShouldHaveSingleItem());
        Events(json)[1].GetProperty("body").GetProperty("output").GetString().ShouldBe("{\"a\":1}");
    }

    [Fact]
    public void Encode_UnicodeAndLoneSurrogates_StayValidJson()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var request = encoder.Encode([FullGeneration(b => { b.Name = "日本語 🚀 \"q\" \u0001"; b.Output = "bad \uD800 surrogate"; })], NoScores, Now).ShouldHaveSingleItem();
        Encoding.UTF8.GetString(request.Body.Span).ShouldContain("日本語"); // not \u-escaped (emoji are, as surrogate pairs)
        using var json = Parse(request);
        var body = Events(json)[1].GetProperty("body");
        body.GetProperty("name").GetString().ShouldBe("日本語 🚀 \"q\" \u0001");
        body.GetProperty("output").GetString()!.ShouldStartWith("bad ");
    }

    [Theory]
    [InlineData(ScoreDataType.Numeric)]
    [InlineData(ScoreDataType.Boolean)]
    [InlineData(ScoreDataType.Categorical)]
    [InlineData(ScoreDataType.Text)]
    public void Encode_Score_WritesValueAndDataType(ScoreDataType dataType)
    {
        var value = dataType switch
        {
            ScoreDataType.Numeric => ScoreValue.Numeric(0.87),
            ScoreDataType.Boolean => ScoreValue.Boolean(true),
            ScoreDataType.Categorical => ScoreValue.Categorical("relevant"),
            _ => ScoreValue.FromText("Well grounded."),
        };
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var request = encoder.Encode(NoObservations, [Score(value: value, observationId: ChildSpanHex)], Now).ShouldHaveSingleItem();
        request.Events.ShouldHaveSingleItem().ShouldBe(new LegacyBatchEvent("score-1-event", LegacyEventKind.Score, 0));
        using var json = Parse(request);

        var e = Events(json).ShouldHaveSingleItem();
        e.GetProperty("id").GetString().ShouldBe("score-1-event");
        e.GetProperty("type").GetString().ShouldBe("score-create");
        e.GetProperty("timestamp").GetString().ShouldBe("2026-11-21T05:39:04.631Z");
        var body = e.GetProperty("body");
        body.GetProperty("id").GetString().ShouldBe("score-1");
        body.GetProperty("name").GetString().ShouldBe("quality");
        body.GetProperty("comment").GetString().ShouldBe("looks right");
        body.GetProperty("metadata").GetProperty("judge").GetString().ShouldBe("gpt-4o");
        body.GetProperty("environment").GetString().ShouldBe("production");
        body.GetProperty("traceId").GetString().ShouldBe(TraceHex);
        body.GetProperty("observationId").GetString().ShouldBe(ChildSpanHex);
        body.TryGetProperty("sessionId", out _).ShouldBeFalse();
        switch (dataType)
        {
            case ScoreDataType.Numeric:
                body.GetProperty("value").GetDouble().ShouldBe(0.87);
                body.GetProperty("dataType").GetString().ShouldBe("NUMERIC");
                break;
            case ScoreDataType.Boolean:
                body.GetProperty("value").GetDouble().ShouldBe(1);
                body.GetProperty("dataType").GetString().ShouldBe("BOOLEAN");
                break;
            case ScoreDataType.Categorical:
                body.GetProperty("value").GetString().ShouldBe("relevant");
                body.GetProperty("dataType").GetString().ShouldBe("CATEGORICAL");
                break;
            default:
                body.GetProperty("value").GetString().ShouldBe("Well grounded.");
                body.GetProperty("dataType").GetString().ShouldBe("TEXT");
                break;
        }
    }

    [Fact]
    public void Encode_SessionScore_TargetsOnlyTheSession()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        using var json = Parse(encoder.Encode(NoObservations, [Score(traceId: null, sessionId: "s1")], Now).ShouldHaveSingleItem());
        var body = Events(json)[0].GetProperty("body");
        body.GetProperty("sessionId").GetString().ShouldBe("s1");
        body.TryGetProperty("traceId", out _).ShouldBeFalse();
        body.TryGetProperty("observationId", out _).ShouldBeFalse();
    }

    [Fact]
    public void Encode_ScoreWithTraceAndSession_TargetsOnlyTheTrace()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        using var json = Parse(encoder.Encode(NoObservations, [Score(sessionId: "s1")], Now).ShouldHaveSingleItem());
        var body = Events(json)[0].GetProperty("body");
        body.GetProperty("traceId").GetString().ShouldBe(TraceHex);
        body.TryGetProperty("sessionId", out _).ShouldBeFalse();
    }

    [Fact]
    public void Encode_NonFiniteScore_WritesNullInsteadOfThrowing()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        using var json = Parse(encoder.Encode(NoObservations, [Score(value: ScoreValue.Numeric(double.NaN))], Now).ShouldHaveSingleItem());
        Events(json)[0].GetProperty("body").GetProperty("value").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public void Encode_UnderByteLimit_SplitsWithoutLosingEventsAndRepeatsTraceCreate()
    {
        var observations = Enumerable.Range(1, 120)
            .Select(i => Minimal((ulong)i, parentSpanId: RootSpan, name: $"s{i}", input: "\"" + new string('a', (i * 53) % 2000) + "\"", traceHigh: (ulong)(1 + (i % 3))))
            .ToList();
        var scores = Enumerable.Range(1, 40).Select(i => Score(id: $"score-{i}")).ToList();
        const int limit = 16 * 1024;
        using var encoder = new LegacyBatchEncoder("0.1.0");

        var requests = encoder.Encode(observations, scores, Now, limit);

        requests.Count.ShouldBeGreaterThan(1);
        var observationIds = new List<string>();
        var scoreIds = new List<string>();
        foreach (var request in requests)
        {
            request.Body.Length.ShouldBeLessThanOrEqualTo(limit);
            using var json = Parse(request);
            var events = Events(json);
            events.Count.ShouldBe(request.Events.Count);
            json.RootElement.GetProperty("metadata").GetProperty("batch_size").GetInt32().ShouldBe(events.Count);
            var announced = new HashSet<string>();
            for (var i = 0; i < events.Count; i++)
            {
                var type = events[i].GetProperty("type").GetString();
                var body = events[i].GetProperty("body");
                events[i].GetProperty("id").GetString().ShouldBe(request.Events[i].EventId);
                if (type == "trace-create")
                {
                    announced.Add(body.GetProperty("id").GetString()!).ShouldBeTrue();
                    request.Events[i].Kind.ShouldBe(LegacyEventKind.Trace);
                }
                else if (type == "score-create")
                {
                    request.Events[i].Kind.ShouldBe(LegacyEventKind.Score);
                    scoreIds.Add(body.GetProperty("id").GetString()!);
                }
                else
                {
                    // Every request that holds a trace's observations announces the trace first.
                    announced.ShouldContain(body.GetProperty("traceId").GetString()!);
                    request.Events[i].Kind.ShouldBe(LegacyEventKind.Observation);
                    observations[request.Events[i].ItemIndex].Name.ShouldBe(body.GetProperty("name").GetString());
                    observationIds.Add(body.GetProperty("id").GetString()!);
                }
            }
        }

        observationIds.ShouldBe(observations.Select(o => Convert.ToHexStringLower(BitConverter.GetBytes(o.SpanId).Reverse().ToArray())));
        scoreIds.ShouldBe(scores.Select(s => s.Id));
    }

    [Fact]
    public void Encode_EventLargerThanLimit_GoesAloneInItsOwnRequest()
    {
        using var encoder = new LegacyBatchEncoder("0.1.0");
        var requests = encoder.Encode(
            [Minimal(1, name: "small"), Minimal(2, name: "huge", input: "\"" + new string('z', 20_000) + "\""), Minimal(3, name: "after")],
            NoScores,
            Now,
            maxRequestBytes: 5_000);

        requests.Count.ShouldBe(3);
        requests[1].Events.Select(e => e.Kind).ShouldBe([LegacyEventKind.Trace, LegacyEventKind.Observation]);
        requests[1].Body.Length.ShouldBeGreaterThan(5_000);
        using var json = Parse(requests[1]);
        Events(json)[1].GetProperty("body").GetProperty("name").GetString().ShouldBe("huge");
    }

    [Fact]
    public void Encode_OneMegabyteInput_IsWrittenRaw()
    {
        var input = "{\"text\":\"" + new string('x', 1_048_576) + "\"}";
        using var encoder = new LegacyBatchEncoder("0.1.0");
        using var json = Parse(encoder.Encode([Minimal(1, input: input)], NoScores, Now).ShouldHaveSingleItem());
        Events(json)[1].GetProperty("body").GetProperty("input").GetProperty("text").GetString()!.Length.ShouldBe(1_048_576);
    }

    private static JsonDocument Parse(LegacyBatchRequest request) => JsonDocument.Parse(request.Body);

    private static List<JsonElement> Events(JsonDocument json) => [.. json.RootElement.GetProperty("batch").EnumerateArray()];
}
