using System.Text.Json;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Testing;

/// <summary>
/// The ported reading of our requests by Langfuse's server, pinned on hand-built spans and events whose outcome is
/// known from Langfuse's code, so the end-to-end tests can trust it.
/// </summary>
public sealed class LangfuseIngestionModelTests
{
    private const string Trace = "0af7651916cd43dd8448eb211c80319c";
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Otlp_CachedTokensSentBesideAnInclusiveInput_AreCountedTwiceAndWarned()
    {
        // The example: 43 input tokens of which 25 cached, sent as they were before the fix.
        var view = LangfuseIngestionModel.FromOtlp([Span("a", attributes: new()
        {
            ["langfuse.observation.type"] = "generation",
            ["langfuse.observation.usage_details"] = """{"input":43,"cached_input":25,"output":7,"total":50}""",
        })]);

        var row = view.Observations.Single();
        row.InputTokens.ShouldBe(68);
        view.Warnings.ShouldHaveSingleItem().ShouldContain(LangfuseIngestionModel.UsageTotalMismatchWarning);
    }

    [Fact]
    public void Otlp_ExclusiveBuckets_AddUpToTheTotal_WithoutWarning()
    {
        var view = LangfuseIngestionModel.FromOtlp([Span("a", attributes: new()
        {
            ["langfuse.observation.usage_details"] = """{"input":18,"input_cached_tokens":25,"output":7,"total":50}""",
        })]);

        var row = view.Observations.Single();
        row.InputTokens.ShouldBe(43);
        row.OutputTokens.ShouldBe(7);
        row.NonTotalTokens.ShouldBe(row.TotalTokens);
        view.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void Otlp_UsageWithoutTotal_GetsTheSumAsTotal()
    {
        var view = LangfuseIngestionModel.FromOtlp([Span("a", attributes: new() { ["langfuse.observation.usage_details"] = """{"input":3,"output":4}""" })]);
        view.Observations.Single().UsageDetails.ShouldBe(new Dictionary<string, long> { ["input"] = 3, ["output"] = 4, ["total"] = 7 });
    }

    [Fact]
    public void Otlp_OpenAiUsageShape_HasItsDetailsSubtracted()
    {
        var view = LangfuseIngestionModel.FromOtlp([Span("a", attributes: new()
        {
            ["langfuse.observation.usage_details"] =
                """{"prompt_tokens":43,"completion_tokens":10,"total_tokens":53,"prompt_tokens_details":{"cached_tokens":25},"completion_tokens_details":{"reasoning_tokens":4}}""",
        })]);

        view.Observations.Single().UsageDetails.OrderBy(kv => kv.Key, StringComparer.Ordinal).ShouldBe(new Dictionary<string, long>
        {
            ["input"] = 18, ["input_cached_tokens"] = 25, ["output"] = 6, ["output_reasoning_tokens"] = 4, ["total"] = 53,
        });
    }

    [Fact]
    public void Otlp_NegativeOrFractionalUsage_IsDroppedWithAWarning()
    {
        var view = LangfuseIngestionModel.FromOtlp([Span("a", attributes: new() { ["langfuse.observation.usage_details"] = """{"input":-1}""" })]);
        view.Observations.Single().UsageDetails.ShouldBeEmpty();
        view.Warnings.ShouldHaveSingleItem().ShouldContain(LangfuseIngestionModel.InvalidUsageWarning);
    }

    [Fact]
    public void Otlp_ExceptionEvent_ShowsNowhere_StatusAndLevelComeFromAttributesThenStatus()
    {
        var withEvent = Span("a", statusCode: 2, statusMessage: "from status", events:
        [
            new ReceivedSpanEvent("exception", 0, new Dictionary<string, object?>
            {
                ["exception.type"] = "System.TimeoutException", ["exception.stacktrace"] = "at X.Y()",
            }),
        ]);
        var withAttribute = Span("b", statusCode: 2, statusMessage: "from status", attributes: new()
        {
            ["langfuse.observation.status_message"] = "from attribute", ["langfuse.observation.level"] = "WARNING",
        });

        var view = LangfuseIngestionModel.FromOtlp([withEvent, withAttribute]);

        var a = view.Observations.Single(o => o.Id == withEvent.SpanId);
        a.Level.ShouldBe("ERROR");
        a.StatusMessage.ShouldBe("from status");
        a.Metadata.Keys.ShouldNotContain(k => k.Contains("exception", StringComparison.Ordinal) || k.Contains("stacktrace", StringComparison.Ordinal));
        var b = view.Observations.Single(o => o.Id == withAttribute.SpanId);
        b.Level.ShouldBe("WARNING");
        b.StatusMessage.ShouldBe("from attribute");
    }

    [Fact]
    public void Otlp_Metadata_IsFlattened_WithTheTraceValueWinningAClash()
    {
        var view = LangfuseIngestionModel.FromOtlp([Span("a", attributes: new()
        {
            ["langfuse.observation.metadata"] = """{"k":"observation","nested":{"x":1},"exception.type":"T"}""",
            ["langfuse.trace.metadata"] = """{"k":"trace"}""",
        })]);

        var metadata = view.Observations.Single().Metadata;
        metadata["k"].ShouldBe("trace");
        metadata["nested.x"].ShouldBe("1");
        metadata["exception.type"].ShouldBe("T");
        metadata["resourceAttributes.service.name"].ShouldBe("svc");
    }

    [Fact]
    public void Otlp_Trace_StartsAtTheEarliestObservation_WhicheverArrivesFirst_AndTakesItsAttributesFromTheRoot()
    {
        var root = Span("root", start: T0, attributes: new()
        {
            ["langfuse.trace.name"] = "q", ["langfuse.release"] = "r1", ["langfuse.observation.input"] = "question",
            ["langfuse.observation.output"] = "answer", ["langfuse.trace.tags"] = new object?[] { "a" },
        });
        var callee = Span("callee", parent: root.SpanId, start: T0.AddMilliseconds(40), attributes: new()
        {
            ["langfuse.trace.tags"] = new object?[] { "a", "b" }, ["langfuse.observation.input"] = "sub-question",
        });

        var view = LangfuseIngestionModel.FromOtlp([callee, root]); // the callee exports first

        var trace = view.Trace(Trace);
        trace.Timestamp.ShouldBe(T0);
        trace.Name.ShouldBe("root");
        trace.Release.ShouldBe("r1");
        trace.Input.ShouldBe("question");
        trace.Output.ShouldBe("answer");
        trace.Tags.ShouldBe(["a"], "the last row with tags wins");
        view.Observations.Single(o => o.Id == callee.SpanId).Release.ShouldBeNull("a row carries only what its own span says");
    }

    [Fact]
    public void Otlp_Times_AreKeptToTheMillisecond()
    {
        var span = Span("a", start: T0.AddTicks(4_999), end: T0.AddTicks(9_999));
        var row = LangfuseIngestionModel.FromOtlp([span]).Observations.Single();
        row.StartTime.ShouldBe(T0);
        row.LatencyMilliseconds.ShouldBe(0, "sub-millisecond steps show as 0 ms");
    }

    [Fact]
    public void Batch_TraceTimestamp_IsFixedByTheFirstWrite_AndInputComesOnlyFromTraceCreate()
    {
        var view = LangfuseIngestionModel.FromBatch(
        [
            Event("trace-create", $$"""{"id":"{{Trace}}","timestamp":"{{Iso(T0.AddMilliseconds(40))}}","tags":["b"],"metadata":{"x":"1"} }"""),
            Event("span-create", $$"""{"id":"s1","traceId":"{{Trace}}","name":"root","startTime":"{{Iso(T0)}}","input":"question"}"""),
            Event("trace-create", $$"""{"id":"{{Trace}}","timestamp":"{{Iso(T0)}}","name":"q","tags":["a"],"metadata":{"y":"2"} }"""),
        ]);

        var trace = view.Trace(Trace);
        trace.Timestamp.ShouldBe(T0.AddMilliseconds(40), "a later trace-create never moves the timestamp");
        trace.Input.ShouldBeNull("span input never becomes the trace's on the batch path");
        trace.Name.ShouldBe("q");
        trace.Tags.ShouldBe(["b", "a"]);
        trace.Metadata.ShouldBe(new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" });
        view.Observations.Single().TraceName.ShouldBeNull("batch observation rows carry no trace attributes");
    }

    [Fact]
    public void Batch_Usage_MergesLegacyUsageAndDetails_AndWarnsWhenBucketsExceedTheTotal()
    {
        var view = LangfuseIngestionModel.FromBatch(
        [
            Event("generation-create", $$"""{"id":"g1","traceId":"{{Trace}}","usageDetails":{"input":43,"cached_input":25,"output":7,"total":50} }"""),
            Event("generation-create", $$"""{"id":"g2","traceId":"{{Trace}}","usage":{"input":5,"output":6} }"""),
        ]);

        view.Observations.Single(o => o.Id == "g1").InputTokens.ShouldBe(68);
        view.Observations.Single(o => o.Id == "g2").UsageDetails.ShouldBe(new Dictionary<string, long> { ["input"] = 5, ["output"] = 6, ["total"] = 11 });
        view.Warnings.ShouldHaveSingleItem().ShouldContain("g1");
    }

    [Fact]
    public void Batch_ObservationFields_LaterNonNullWins_StartTimeIsFixed()
    {
        var view = LangfuseIngestionModel.FromBatch(
        [
            Event("span-create", $$"""{"id":"s1","traceId":"{{Trace}}","name":"first","startTime":"{{Iso(T0)}}","level":"ERROR","statusMessage":"boom"}"""),
            Event("span-create", $$"""{"id":"s1","traceId":"{{Trace}}","name":"second","startTime":"{{Iso(T0.AddSeconds(1))}}","endTime":"{{Iso(T0.AddSeconds(2))}}"}"""),
        ]);

        var row = view.Observations.ShouldHaveSingleItem();
        row.Name.ShouldBe("second");
        row.StartTime.ShouldBe(T0);
        row.EndTime.ShouldBe(T0.AddSeconds(2));
        row.Level.ShouldBe("ERROR");
        row.StatusMessage.ShouldBe("boom");
        view.Traces.ShouldBeEmpty("no trace-create, no trace row");
    }

    private static ReceivedSpan Span(
        string name,
        string? parent = null,
        DateTimeOffset? start = null,
        DateTimeOffset? end = null,
        Dictionary<string, object?>? attributes = null,
        int statusCode = 0,
        string statusMessage = "",
        IReadOnlyList<ReceivedSpanEvent>? events = null) => new()
        {
            TraceId = Trace,
            SpanId = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name))[..8]),
            ParentSpanId = parent,
            Name = name,
            StartTimeUnixNano = Nanos(start ?? T0),
            EndTimeUnixNano = Nanos(end ?? (start ?? T0).AddMilliseconds(5)),
            Attributes = attributes ?? [],
            StatusCode = statusCode,
            StatusMessage = statusMessage,
            Events = events ?? [],
            ResourceAttributes = new Dictionary<string, object?> { ["service.name"] = "svc" },
        };

    private static ulong Nanos(DateTimeOffset time) => (ulong)(time - DateTimeOffset.UnixEpoch).Ticks * 100;

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static ReceivedEvent Event(string type, string body)
    {
        var envelope = JsonDocument.Parse($$"""{"id":"{{Guid.NewGuid()}}","timestamp":"{{Iso(T0)}}","type":"{{type}}","body":{{body}}}""").RootElement;
        return new ReceivedEvent(envelope.GetProperty("id").GetString()!, type, Iso(T0), envelope.GetProperty("body").Clone(), envelope.Clone());
    }
}
