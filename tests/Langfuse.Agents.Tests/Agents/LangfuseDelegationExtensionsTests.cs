using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Agents;

public sealed class LangfuseDelegationExtensionsTests : IDisposable
{
    private readonly AgentTestTracer _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void StartDelegation_IsAnAgentNamedAfterTheCallee_WithCallerAndCalleeVisible()
    {
        using (var coordinator = _t.Tracer.StartAgent("coordinator"))
        {
            using var delegation = coordinator.StartDelegation("searcher", input: "find papers");
            LangfuseTracer.CurrentObservation.ShouldBeSameAs(delegation); // the callee's steps nest under it
            using var step = _t.Tracer.StartTool("web_search");
        }

        var coordinatorId = _t.Single("coordinator").Id;
        var searcher = _t.Single("searcher");
        searcher.Type.ShouldBe(ObservationType.Agent);
        searcher.ParentId.ShouldBe(coordinatorId);
        searcher.Input.ShouldBe("find papers");
        searcher.Metadata[AgentMetadataKeys.DelegationCaller].ShouldBe("coordinator");
        searcher.Metadata[AgentMetadataKeys.DelegationCallee].ShouldBe("searcher");
        _t.Single("web_search").ParentId.ShouldBe(searcher.Id);
    }

    [Fact]
    public void StartDelegation_FromTheTracer_UsesTheCurrentObservationAsCaller()
    {
        using (_t.Tracer.StartAgent("planner"))
        {
            using var delegation = _t.Tracer.StartDelegation("writer");
        }

        var writer = _t.Single("writer");
        writer.ParentId.ShouldBe(_t.Single("planner").Id);
        writer.Metadata[AgentMetadataKeys.DelegationCaller].ShouldBe("planner");
        writer.Metadata[AgentMetadataKeys.DelegationCallee].ShouldBe("writer");
    }

    [Fact]
    public void StartDelegation_WhenTheCalleeFails_ShowsTheFailureOnTheDelegation()
    {
        using (var coordinator = _t.Tracer.StartAgent("coordinator"))
        {
            using var delegation = coordinator.StartDelegation("searcher");
            delegation.RecordFailure(FailureType.Orchestration, FailureCode.ConnectionFailed, exception: new HttpRequestException("connection refused"));
        }

        var searcher = _t.Single("searcher");
        searcher.Level.ShouldBe(ObservationLevel.Error);
        searcher.StatusMessage.ShouldBe("orchestration/connection_failed: connection refused");
        searcher.Metadata[AgentMetadataKeys.DelegationCallee].ShouldBe("searcher");
    }
}
