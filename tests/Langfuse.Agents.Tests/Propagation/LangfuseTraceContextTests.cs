using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Propagation;

public sealed class LangfuseTraceContextTests
{
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string SpanId = "b7ad6b7169203331";

    [Theory]
    [InlineData("00-" + TraceId + "-" + SpanId + "-01", true)]
    [InlineData("00-" + TraceId + "-" + SpanId + "-00", false)]
    [InlineData("00-" + TraceId + "-" + SpanId + "-03", true)]
    [InlineData("01-" + TraceId + "-" + SpanId + "-01-future", true)]
    [InlineData("  00-" + TraceId + "-" + SpanId + "-01 ", true)]
    public void TryParse_ValidTraceparent_ReadsIdsAndSampledFlag(string header, bool sampled)
    {
        LangfuseTraceContext.TryParse(header, null, out var context).ShouldBeTrue();
        context.TraceId.ShouldBe(TraceId);
        context.ParentId.ShouldBe(SpanId);
        context.IsSampled.ShouldBe(sampled);
        context.IsValid.ShouldBeTrue();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("00-00000000000000000000000000000000-" + SpanId + "-01")]
    [InlineData("00-" + TraceId + "-0000000000000000-01")]
    [InlineData("00-" + "0AF7651916CD43DD8448EB211C80319C" + "-" + SpanId + "-01")]
    [InlineData("ff-" + TraceId + "-" + SpanId + "-01")]
    [InlineData("00-" + TraceId + "-" + SpanId + "-01-extra")]
    [InlineData("00-" + TraceId + "-" + SpanId + "-zz")]
    [InlineData("00_" + TraceId + "-" + SpanId + "-01")]
    public void TryParse_InvalidTraceparent_ReturnsFalse(string? header) =>
        LangfuseTraceContext.TryParse(header, null, out _).ShouldBeFalse();

    [Fact]
    public void ToTraceparent_RoundTrips()
    {
        LangfuseTraceContext.TryParse($"00-{TraceId}-{SpanId}-01", null, out var context).ShouldBeTrue();
        context.ToTraceparent().ShouldBe($"00-{TraceId}-{SpanId}-01");
        default(LangfuseTraceContext).ToTraceparent().ShouldBeEmpty();
        default(LangfuseTraceContext).IsValid.ShouldBeFalse();
    }

    [Theory]
    [InlineData("langfuse_session_id=s%201,langfuse_user_id=u%401", "s 1", "u@1")]
    [InlineData(" tenant=acme ; p=1 , langfuse_session_id = s1 ;prop", "s1", null)]
    [InlineData("session.id=legacy,user.id=someone", "legacy", "someone")]
    [InlineData("session.id=legacy,langfuse_session_id=ours", "ours", null)]
    [InlineData("langfuse_session_id=,langfuse_user_id", null, null)]
    [InlineData("langfuse_session_id=%E0%A4%A", "%E0%A4%A", null)]
    public void TryParse_Baggage_ReadsSessionAndUser(string baggage, string? session, string? user)
    {
        LangfuseTraceContext.TryParse($"00-{TraceId}-{SpanId}-01", baggage, out var context).ShouldBeTrue();
        context.SessionId.ShouldBe(session);
        context.UserId.ShouldBe(user);
    }

    [Fact]
    public void ToBaggage_WithNeitherSessionNorUser_IsNull()
    {
        LangfuseTraceContext.TryParse($"00-{TraceId}-{SpanId}-01", null, out var context).ShouldBeTrue();
        context.ToBaggage().ShouldBeNull();
        (context with { UserId = "u 1" }).ToBaggage().ShouldBe("langfuse_user_id=u%201");
    }

    [Fact]
    public async Task FromObservation_ToBaggage_TryParse_CarryTheTraceAttributesPythonsPropagateAttributesCarries()
    {
        await using var tracer = new LangfuseTracer(new LangfuseOptions { Capture = new LangfuseCapture(), Release = "caller@2.0", Environment = "staging" });
        using var root = tracer.StartTrace("research query", sessionId: "s1", userId: "u1");
        root.Trace.AddTags("distributed", "demo");
        root.Trace.Version = "v3";
        root.Trace.SetMetadata("tenant", "acme").SetMetadata("attempt", 2).SetMetadata("agents", new[] { "a", "b" });

        var baggage = LangfuseTraceContext.FromObservation(root).ToBaggage()!;

        baggage.ShouldBe(
            "langfuse_session_id=s1,langfuse_user_id=u1,langfuse_trace_name=research%20query,langfuse_tags=distributed%2Cdemo,"
            + "langfuse_version=v3,langfuse_release=caller%402.0,langfuse_environment=staging,langfuse_metadata_attempt=2,langfuse_metadata_tenant=acme");
        LangfuseTraceContext.TryParse($"00-{TraceId}-{SpanId}-01", baggage, out var received).ShouldBeTrue();
        received.TraceName.ShouldBe("research query");
        received.Tags.ShouldBe(["distributed", "demo"]);
        received.Version.ShouldBe("v3");
        received.Release.ShouldBe("caller@2.0");
        received.Environment.ShouldBe("staging");
        received.Metadata.ShouldBe(new Dictionary<string, string> { ["attempt"] = "2", ["tenant"] = "acme" });
    }

    [Theory]
    [InlineData("langfuse_tags=a%2Cb", new[] { "a", "b" })]
    [InlineData("langfuse_tags=%5B%27a%27%2C%20%27b%27%5D", new[] { "a", "b" })] // Python's str(['a', 'b'])
    [InlineData("langfuse_tags=%5B%22a%22%2C%22b%22%5D", new[] { "a", "b" })] // a JSON array
    [InlineData("langfuse_tags=", new string[0])]
    public void TryParse_Tags_ReadsCommaSeparatedPythonAndJsonForms(string baggage, string[] tags)
    {
        LangfuseTraceContext.TryParse($"00-{TraceId}-{SpanId}-01", baggage, out var context).ShouldBeTrue();
        (context.Tags ?? []).ShouldBe(tags);
    }

    [Theory]
    [InlineData("langfuse_environment=Production")]
    [InlineData("langfuse_environment=langfuse-internal")]
    [InlineData("langfuse_environment=with%20space")]
    public void TryParse_AnEnvironmentLangfuseWouldRefuse_IsIgnored(string baggage)
    {
        LangfuseTraceContext.TryParse($"00-{TraceId}-{SpanId}-01", baggage, out var context).ShouldBeTrue();
        context.Environment.ShouldBeNull();
    }

    [Fact]
    public void Baggage_ValuesOverTwoHundredCharacters_AreNeitherSentNorRead()
    {
        var longName = new string('n', 201);
        LangfuseTraceContext.TryParse($"00-{TraceId}-{SpanId}-01", "langfuse_trace_name=" + longName + ",langfuse_version=ok", out var context).ShouldBeTrue();
        context.TraceName.ShouldBeNull();
        context.Version.ShouldBe("ok");
        (context with { TraceName = longName }).ToBaggage().ShouldBe("langfuse_version=ok");
    }

    [Fact]
    public async Task StartObservation_WithRemoteParent_TakesTheCallersTraceAttributes_OverItsOwnDefaults()
    {
        var capture = new LangfuseCapture();
        await using var tracer = new LangfuseTracer(new LangfuseOptions { Capture = capture, Release = "callee@1.0", Environment = "production" });
        LangfuseTraceContext.TryParse(
            $"00-{TraceId}-{SpanId}-01",
            "langfuse_trace_name=q,langfuse_tags=a%2Cb,langfuse_version=v3,langfuse_release=caller%402.0,langfuse_environment=staging,langfuse_metadata_tenant=acme",
            out var caller).ShouldBeTrue();

        using var agent = tracer.StartObservation("searcher", ObservationType.Agent, caller);

        agent.Trace.Name.ShouldBe("q");
        agent.Trace.Tags.ShouldBe(["a", "b"]);
        agent.Trace.Version.ShouldBe("v3");
        agent.Trace.Release.ShouldBe("caller@2.0");
        agent.Trace.Environment.ShouldBe("staging");
        agent.Trace.Metadata["tenant"].ShouldBe("acme");
    }

    [Fact]
    public async Task StartObservation_WithRemoteParent_JoinsTheCallersTraceWithItsSamplingSessionAndUser()
    {
        var capture = new LangfuseCapture();
        await using var tracer = new LangfuseTracer(new LangfuseOptions { Capture = capture, SampleRate = 1 });
        LangfuseTraceContext.TryParse($"00-{TraceId}-{SpanId}-00", "langfuse_session_id=s1,langfuse_user_id=u1", out var caller).ShouldBeTrue();

        using (var agent = tracer.StartObservation("searcher", ObservationType.Agent, caller))
        {
            agent.TraceId.ShouldBe(TraceId);
            agent.ParentId.ShouldBe(SpanId);
            agent.IsSampled.ShouldBeFalse("the caller's sampled flag wins");
            agent.Trace.SessionId.ShouldBe("s1");
            agent.Trace.UserId.ShouldBe("u1");
            using var tool = tracer.StartTool("web_search");
            tool.ParentId.ShouldBe(agent.Id);
        }
    }

    [Fact]
    public async Task ContinueTrace_MakesRootObservationsOfTheFlowChildrenOfTheCaller_UntilDisposed()
    {
        await using var tracer = new LangfuseTracer(new LangfuseOptions { Capture = new LangfuseCapture() });
        LangfuseTraceContext.TryParse($"00-{TraceId}-{SpanId}-01", "langfuse_session_id=s1", out var caller).ShouldBeTrue();

        using (LangfuseTracer.ContinueTrace(caller))
        {
            await Task.Yield();
            using var agent = tracer.StartAgent("searcher");
            agent.TraceId.ShouldBe(TraceId);
            agent.ParentId.ShouldBe(SpanId);
            agent.Trace.SessionId.ShouldBe("s1");
        }

        using var after = tracer.StartAgent("later");
        after.TraceId.ShouldNotBe(TraceId);
        after.ParentId.ShouldBeNull();
    }
}
