using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Agents;

public sealed class LangfuseQualityExtensionsTests : IDisposable
{
    private readonly AgentTestTracer _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void RecordQuality_IsABooleanScoreOnTheObservation()
    {
        LangfuseObservation tool;
        using (tool = _t.Tracer.StartTool("parse"))
        {
            tool.RecordQuality(QualitySignals.SchemaValid, true);
            tool.RecordQuality(QualitySignals.ToolSucceeded, false, comment: "empty result");
        }

        var scores = _t.Capture.Scores;
        scores.Count.ShouldBe(2);
        scores.ShouldAllBe(s => s.Value.DataType == ScoreDataType.Boolean && s.ObservationId == tool.Id && s.TraceId == tool.TraceId);
        scores[0].Name.ShouldBe("schema_valid");
        scores[0].Value.Number.ShouldBe(1);
        scores[1].Name.ShouldBe("tool_succeeded");
        scores[1].Value.Number.ShouldBe(0);
        scores[1].Comment.ShouldBe("empty result");
    }

    [Fact]
    public void RecordTraceQuality_IsABooleanScoreOnTheTrace()
    {
        using (var root = _t.Tracer.StartTrace("query"))
        {
            root.RecordTraceQuality("answer_grounded", true);
        }

        var score = _t.Capture.Scores.Single();
        score.ObservationId.ShouldBeNull();
        score.TraceId.ShouldBe(_t.Single("query").TraceId);
        score.Value.ShouldBe(ScoreValue.Boolean(true));
    }

    [Fact]
    public void RecordLatencyWithin_ComparesTheDurationWithTheThreshold()
    {
        var clock = new FakeTimeProvider(FakeClock.Start);
        var capture = new LangfuseCapture();
        using var tracer = new LangfuseTracer(new LangfuseOptions { Capture = capture }, NullLoggerFactory.Instance, httpClient: null, timeProvider: clock);

        var fast = tracer.StartTool("fast");
        clock.Advance(TimeSpan.FromMilliseconds(200));
        fast.End();
        fast.RecordLatencyWithin(TimeSpan.FromMilliseconds(500));

        var slow = tracer.StartTool("slow");
        clock.Advance(TimeSpan.FromMilliseconds(800));
        slow.RecordLatencyWithin(TimeSpan.FromMilliseconds(500)); // still open: the time so far counts
        slow.End();

        var scores = capture.Scores;
        scores.ShouldAllBe(s => s.Name == QualitySignals.LatencyWithinThreshold);
        scores[0].Value.ShouldBe(ScoreValue.Boolean(true));
        scores[0].Metadata!["latency_ms"].ShouldBe(200.0);
        scores[0].Metadata!["threshold_ms"].ShouldBe(500.0);
        scores[1].Value.ShouldBe(ScoreValue.Boolean(false));
        scores[1].ObservationId.ShouldBe(slow.Id);
    }
}
