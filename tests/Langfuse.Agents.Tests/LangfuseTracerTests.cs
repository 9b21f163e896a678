using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests;

public sealed class LangfuseTracerTests : IDisposable
{
    private readonly LangfuseCapture _capture = new();
    private readonly LangfuseTracer _tracer;

    public LangfuseTracerTests()
    {
        _tracer = new LangfuseTracer(new LangfuseOptions { Capture = _capture }, NullLoggerFactory.Instance);
    }

    public void Dispose() => _tracer.Dispose();

    [Fact]
    public void StartTrace_CreatesRootWithW3CIdsAndTraceProperties()
    {
        using (var root = _tracer.StartTrace("research-query", sessionId: "s-1", userId: "u-1", input: "q"))
        {
            root.TraceId.ShouldMatch("^[0-9a-f]{32}$");
            root.Id.ShouldMatch("^[0-9a-f]{16}$");
            root.ParentId.ShouldBeNull();
            root.Trace.Name.ShouldBe("research-query");
            root.Trace.SessionId.ShouldBe("s-1");
            root.Trace.UserId.ShouldBe("u-1");
            root.Input.ShouldBe("q");
            LangfuseTracer.CurrentObservation.ShouldBeSameAs(root);
        }

        LangfuseTracer.CurrentObservation.ShouldBeNull();
        _capture.Observations.Single().Name.ShouldBe("research-query");
    }

    [Fact]
    public void Children_NestUnderTheCurrentObservation_AndRestoreItOnEnd()
    {
        using var root = _tracer.StartTrace("t");
        LangfuseObservation child;
        using (child = _tracer.StartAgent("coordinator"))
        {
            using var grandchild = _tracer.StartTool("search");
            grandchild.ParentId.ShouldBe(child.Id);
            grandchild.TraceId.ShouldBe(root.TraceId);
            grandchild.Type.ShouldBe(ObservationType.Tool);
        }

        child.ParentId.ShouldBe(root.Id);
        LangfuseTracer.CurrentObservation.ShouldBeSameAs(root);
    }

    [Fact]
    public async Task ParallelTasks_BecomeSiblingChildrenOfTheObservationTheyStartIn()
    {
        using var root = _tracer.StartTrace("t");
        var ids = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            await using var tool = _tracer.StartTool($"tool-{i}");
            await Task.Yield();
            using var inner = _tracer.StartSpan("inner");
            inner.ParentId.ShouldBe(tool.Id);
            return tool.ParentId;
        })));

        ids.ShouldAllBe(id => id == root.Id);
        LangfuseTracer.CurrentObservation.ShouldBeSameAs(root);
    }

    [Fact]
    public async Task AsyncMethod_DoesNotLeakItsObservationToTheCaller()
    {
        using var root = _tracer.StartTrace("t");
        await StartWithoutDisposingAsync();
        LangfuseTracer.CurrentObservation.ShouldBeSameAs(root);

        async Task StartWithoutDisposingAsync()
        {
            _tracer.StartSpan("leaky");
            await Task.Yield();
        }
    }

    [Fact]
    public void ExplicitParent_WinsOverTheCurrentObservation()
    {
        using var first = _tracer.StartTrace("a");
        using var second = _tracer.StartTrace("b");
        using var child = second.StartSpan("child-of-b");
        using var explicitChild = _tracer.StartObservation("child-of-a", ObservationType.Chain, parent: first);
        explicitChild.TraceId.ShouldBe(first.TraceId);
        explicitChild.ParentId.ShouldBe(first.Id);
        child.ParentId.ShouldBe(second.Id);
    }

    [Fact]
    public void WithoutCurrentObservation_UnderAnActivityContinuingACaller_ParentsOnTheCallersSpan_NeverOnTheActivity()
    {
        // The Activity (an HTTP server span, say) is not sent to Langfuse; the caller's span is, by the caller.
        var callerSpan = ActivitySpanId.CreateRandom();
        using var activity = new Activity("incoming-request").SetIdFormat(ActivityIdFormat.W3C);
        activity.SetParentId(ActivityTraceId.CreateRandom(), callerSpan, ActivityTraceFlags.Recorded);
        activity.Start();

        using var observation = _tracer.StartAgent("searcher");
        observation.TraceId.ShouldBe(activity.TraceId.ToHexString());
        observation.ParentId.ShouldBe(callerSpan.ToHexString());
        observation.IsSampled.ShouldBeTrue();
    }

    [Fact]
    public void UnderLocalActivitiesBelowACaller_ParentsOnTheCallersSpan()
    {
        var callerSpan = ActivitySpanId.CreateRandom();
        using var server = new Activity("server").SetIdFormat(ActivityIdFormat.W3C);
        server.SetParentId(ActivityTraceId.CreateRandom(), callerSpan, ActivityTraceFlags.Recorded);
        server.Start();
        using var handler = new Activity("handler").SetIdFormat(ActivityIdFormat.W3C).Start();
        using var inner = new Activity("db").SetIdFormat(ActivityIdFormat.W3C).Start();

        using var observation = _tracer.StartTool("lookup");
        observation.TraceId.ShouldBe(server.TraceId.ToHexString());
        observation.ParentId.ShouldBe(callerSpan.ToHexString());
    }

    [Fact]
    public void UnderALocalRootActivity_StartsTheRootOfThatTraceId()
    {
        using var activity = new Activity("job").SetIdFormat(ActivityIdFormat.W3C).Start();

        using (var observation = _tracer.StartAgent("worker"))
        {
            observation.TraceId.ShouldBe(activity.TraceId.ToHexString(), "logs and Langfuse share the trace id");
            observation.ParentId.ShouldBeNull("the Activity's own span never reaches Langfuse");
            using var child = _tracer.StartTool("step");
            child.ParentId.ShouldBe(observation.Id);
        }

        var sent = _capture.Observations.Select(o => o.Id).ToHashSet();
        _capture.Observations.Where(o => o.ParentId is not null).ShouldAllBe(o => sent.Contains(o.ParentId!));
    }

    [Fact]
    public void IncomingUnsampledW3CFlag_Wins()
    {
        using var activity = new Activity("incoming-request").SetIdFormat(ActivityIdFormat.W3C);
        activity.SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None);
        activity.Start();

        using (var observation = _tracer.StartSpan("work"))
        {
            observation.IsSampled.ShouldBeFalse();
        }

        _capture.Observations.ShouldBeEmpty();
    }

    [Fact]
    public void EndingTwice_IsHarmless_AndTheObservationIsFrozenAfterTheEnd()
    {
        var span = _tracer.StartSpan("s");
        span.Output = "before";
        span.End();
        var end = span.EndTime;
        span.Output = "after";
        span.Name = "renamed";
        span.SetMetadata("k", 1);
        span.End();
        span.Dispose();

        span.Output.ShouldBe("before");
        span.Name.ShouldBe("s");
        span.Metadata.ShouldBeEmpty();
        span.EndTime.ShouldBe(end);
        _capture.Observations.Count.ShouldBe(1);
    }

    [Fact]
    public async Task DisposeAsync_EndsTheObservation()
    {
        var span = _tracer.StartSpan("s");
        await span.DisposeAsync();
        span.IsEnded.ShouldBeTrue();
        _capture.Observations.ShouldContain(span);
    }

    [Fact]
    public void RecordException_SetsErrorLevelAndStatusMessage()
    {
        using var span = _tracer.StartTool("flaky");
        span.RecordException(new TimeoutException("took too long"));
        span.Level.ShouldBe(ObservationLevel.Error);
        span.StatusMessage.ShouldBe("TimeoutException: took too long");
        span.Exception.ShouldBeOfType<TimeoutException>();
    }

    [Fact]
    public void Generation_RecordsModelUsageCostPromptAndFirstToken()
    {
        using var root = _tracer.StartTrace("t");
        var generation = _tracer.StartGeneration("plan", "gpt-4o");
        generation.SetModelParameter("temperature", 0.2)
            .SetUsage(input: 10, output: 20, total: 30)
            .SetUsage("cached_input", 4)
            .SetUsage("bogus", -1)
            .SetCost(input: 0.001m, output: 0.002m)
            .SetPrompt("planner", 3)
            .MarkFirstToken();
        var firstToken = generation.CompletionStartTime;
        generation.MarkFirstToken();
        generation.End();

        generation.Model.ShouldBe("gpt-4o");
        generation.ModelParameters["temperature"].ShouldBe(0.2);
        generation.Usage.ShouldBe(new Dictionary<string, long> { ["input"] = 10, ["output"] = 20, ["total"] = 30, ["cached_input"] = 4 });
        generation.Cost["output"].ShouldBe(0.002m);
        generation.PromptName.ShouldBe("planner");
        generation.PromptVersion.ShouldBe(3);
        firstToken.ShouldNotBeNull();
        generation.CompletionStartTime.ShouldBe(firstToken);
    }

    [Theory]
    [InlineData(ObservationType.Generation, typeof(LangfuseGeneration))]
    [InlineData(ObservationType.Embedding, typeof(LangfuseGeneration))]
    [InlineData(ObservationType.Retriever, typeof(LangfuseObservation))]
    [InlineData(ObservationType.Guardrail, typeof(LangfuseObservation))]
    public void StartObservation_ReturnsGenerationsForModelCalls(ObservationType type, Type expected)
    {
        using var observation = _tracer.StartObservation("x", type);
        observation.GetType().ShouldBe(expected);
        observation.Type.ShouldBe(type);
    }

    [Fact]
    public void RecordEvent_IsEndedAtOnce_AndDoesNotBecomeCurrent()
    {
        using var root = _tracer.StartTrace("t");
        var decision = _tracer.RecordEvent("route", input: new { candidates = new[] { "a", "b" } }, output: "a");
        decision.IsEnded.ShouldBeTrue();
        decision.EndTime.ShouldBe(decision.StartTime);
        decision.ParentId.ShouldBe(root.Id);
        LangfuseTracer.CurrentObservation.ShouldBeSameAs(root);
    }

    [Fact]
    public void Scores_TargetTraceObservationOrSession()
    {
        using var root = _tracer.StartTrace("t", sessionId: "s");
        root.ScoreTrace("quality", 0.9, "good").ShouldNotBeNull();
        root.Score("schema_valid", true).ShouldNotBeNull();
        _tracer.ScoreSession("s", "csat", ScoreValue.Categorical("happy")).ShouldNotBeNull();
        _tracer.ScoreTrace(root.TraceId, "note", ScoreValue.FromText(new string('x', 600))).ShouldNotBeNull();

        var scores = _capture.Scores;
        scores.Count.ShouldBe(4);
        scores[0].TraceId.ShouldBe(root.TraceId);
        scores[0].ObservationId.ShouldBeNull();
        scores[0].Value.ShouldBe(ScoreValue.Numeric(0.9));
        scores[1].ObservationId.ShouldBe(root.Id);
        scores[1].Value.DataType.ShouldBe(ScoreDataType.Boolean);
        scores[1].Value.Number.ShouldBe(1);
        scores[2].SessionId.ShouldBe("s");
        scores[2].TraceId.ShouldBeNull();
        scores[3].Value.Text!.Length.ShouldBe(500);
        scores.Select(s => s.Id).Distinct().Count().ShouldBe(4);
    }

    [Fact]
    public void InvalidScores_AreIgnoredWithoutThrowing()
    {
        _tracer.ScoreTrace("", "x", 1).ShouldBeNull();
        _tracer.ScoreTrace(new string('a', 32), "", 1).ShouldBeNull();
        _tracer.ScoreTrace(new string('a', 32), "nan", double.NaN).ShouldBeNull();
        _tracer.ScoreSession("s", "empty", ScoreValue.Categorical("")).ShouldBeNull();
        _capture.Scores.ShouldBeEmpty();
    }

    [Fact]
    public void TraceProperties_AreSharedByEveryObservationOfTheTrace()
    {
        using var root = _tracer.StartTrace("t");
        using var child = _tracer.StartSpan("child");
        child.Trace.ShouldBeSameAs(root.Trace);
        child.Trace.AddTags("a", "b").AddTags("b", "c");
        child.Trace.SetMetadata("tenant", "acme");
        root.Trace.Tags.ShouldBe(["a", "b", "c"]);
        root.Trace.Metadata["tenant"].ShouldBe("acme");
    }

    [Fact]
    public void SampleRateZero_DropsWholeTraces_AndCountsNothingWhenNotExporting()
    {
        var capture = new LangfuseCapture();
        using var tracer = new LangfuseTracer(new LangfuseOptions { Capture = capture, SampleRate = 0 }, NullLoggerFactory.Instance);
        using (var root = tracer.StartTrace("t"))
        {
            using var child = tracer.StartSpan("c");
            child.IsSampled.ShouldBeFalse();
            root.ScoreTrace("q", 1);
        }

        capture.Observations.ShouldBeEmpty();
        capture.Scores.ShouldBeEmpty();
    }

    [Fact]
    public async Task WithoutKeys_TheTracerDoesNotExport_ButTheApplicationRunsUnchanged()
    {
        _tracer.IsExporting.ShouldBeFalse();
        using var span = _tracer.StartSpan("s");
        span.Input = new { a = 1 };
        (await _tracer.FlushAsync()).Completed.ShouldBeTrue();
    }
}
