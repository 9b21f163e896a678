using System.Text.Json.Nodes;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Agents;

public sealed class LangfuseDecisionExtensionsTests : IDisposable
{
    private readonly AgentTestTracer _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void RecordDecision_IsAnEventWithCandidatesChosenReasonAndConfidence()
    {
        LangfuseObservation decision;
        using (var router = _t.Tracer.StartAgent("router"))
        {
            decision = router.RecordDecision("route", "search", ["search", "answer", "clarify"], reason: "needs_fresh_data", confidence: 0.82);
        }

        decision.Type.ShouldBe(ObservationType.Event);
        decision.IsEnded.ShouldBeTrue();
        decision.ParentId.ShouldBe(_t.Single("router").Id);
        decision.EndTime.ShouldBe(decision.StartTime);
        ((JsonObject)decision.Input!)["candidates"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe(["search", "answer", "clarify"]);
        ((JsonObject)decision.Output!)["chosen"]!.GetValue<string>().ShouldBe("search");
        decision.Metadata[AgentMetadataKeys.DecisionChosen].ShouldBe("search");
        decision.Metadata[AgentMetadataKeys.DecisionReason].ShouldBe("needs_fresh_data");
        decision.Metadata[AgentMetadataKeys.DecisionConfidence].ShouldBe(0.82);

        var score = _t.Capture.Scores.Single();
        score.Name.ShouldBe(AgentScoreNames.DecisionConfidence);
        score.Value.ShouldBe(ScoreValue.Numeric(0.82));
        score.ObservationId.ShouldBe(decision.Id);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void RecordDecision_ConfidenceOutsideZeroToOne_IsLeftOut(double confidence)
    {
        using (_t.Tracer.StartAgent("router"))
        {
            _t.Tracer.RecordDecision("route", "answer", ["search", "answer"], confidence: confidence);
        }

        var decision = _t.Single("route");
        decision.Metadata.ContainsKey(AgentMetadataKeys.DecisionConfidence).ShouldBeFalse();
        decision.Metadata.ContainsKey(AgentMetadataKeys.DecisionReason).ShouldBeFalse();
        decision.ParentId.ShouldBe(_t.Single("router").Id);
        _t.Capture.Scores.ShouldBeEmpty();
    }
}
