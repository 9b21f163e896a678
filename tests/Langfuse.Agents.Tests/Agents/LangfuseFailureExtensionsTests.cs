using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Agents;

public sealed class LangfuseFailureExtensionsTests : IDisposable
{
    private readonly AgentTestTracer _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void RecordFailure_SetsErrorLevelAndFilterableTaxonomy()
    {
        using (var tool = _t.Tracer.StartTool("web_search"))
        {
            tool.RecordFailure(FailureType.Tool, FailureCode.Timeout, "search took 30 s");
        }

        var recorded = _t.Single("web_search");
        recorded.Level.ShouldBe(ObservationLevel.Error);
        recorded.StatusMessage.ShouldBe("tool/timeout: search took 30 s");
        recorded.Metadata[AgentMetadataKeys.FailureType].ShouldBe("tool");
        recorded.Metadata[AgentMetadataKeys.FailureCode].ShouldBe("timeout");

        var score = _t.Capture.Scores.Single();
        score.Name.ShouldBe(AgentScoreNames.Failure);
        score.Value.ShouldBe(ScoreValue.Categorical("tool/timeout"));
        score.ObservationId.ShouldBe(recorded.Id);
        score.TraceId.ShouldBe(recorded.TraceId);
    }

    [Fact]
    public void RecordFailure_WithException_KeepsItAndClassifiesIt()
    {
        var exception = new HttpRequestException("slow down", null, System.Net.HttpStatusCode.TooManyRequests);
        using (var generation = _t.Tracer.StartGeneration("plan", model: "gpt-4o"))
        {
            generation.RecordFailure(FailureType.Model, exception, score: false);
        }

        var recorded = _t.Single("plan");
        recorded.Exception.ShouldBeSameAs(exception);
        recorded.StatusMessage.ShouldBe("model/rate_limited: slow down");
        recorded.Metadata[AgentMetadataKeys.FailureCode].ShouldBe("rate_limited");
        _t.Capture.Scores.ShouldBeEmpty();
    }

    [Fact]
    public void RecordFailure_WithoutMessage_StatusIsTypeAndCode_AndCustomCodesAreNormalized()
    {
        using (var retriever = _t.Tracer.StartObservation("vector_search", ObservationType.Retriever))
        {
            retriever.RecordFailure(FailureType.Retrieval, "Index-Missing");
        }

        var recorded = _t.Single("vector_search");
        recorded.StatusMessage.ShouldBe("retrieval/index_missing");
        recorded.Metadata[AgentMetadataKeys.FailureType].ShouldBe("retrieval");
    }

    [Fact]
    public void RecordFailure_AfterEnd_IsIgnored()
    {
        var span = _t.Tracer.StartSpan("done");
        span.End();
        span.RecordFailure(FailureType.Orchestration, FailureCode.Unknown, "too late");

        span.Level.ShouldBe(ObservationLevel.Default);
        span.Metadata.ShouldBeEmpty();
        _t.Capture.Scores.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(FailureType.Tool, "tool")]
    [InlineData(FailureType.Model, "model")]
    [InlineData(FailureType.Retrieval, "retrieval")]
    [InlineData(FailureType.Orchestration, "orchestration")]
    public void ToWire_IsTheLowercaseName(FailureType type, string expected) => type.ToWire().ShouldBe(expected);
}
