using System.Text.Json;
using Langfuse.Agents.Observe;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Generators.Tests;

/// <summary>
/// [Observe] end to end in process: this project's own methods are intercepted by the generator, and the
/// observations go to a fake Langfuse.
/// </summary>
#pragma warning disable CA1001 // disposed in DisposeAsync (xunit IAsyncLifetime)
public sealed class ObserveRuntimeTests : IAsyncLifetime
{
    private FakeLangfuseServer _server = null!;
    private LangfuseTracer _tracer = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeLangfuseServer.StartAsync();
        _tracer = new LangfuseTracer(
            new LangfuseOptions { PublicKey = _server.PublicKey, SecretKey = _server.SecretKey, BaseUrl = _server.BaseUrl, BufferEnabled = false },
            NullLoggerFactory.Instance);
        ObserveRuntime.TracerOverride = _tracer;
        ObserveRuntime.SetCaptureEnabled(true);
    }

    public async Task DisposeAsync()
    {
        ObserveRuntime.TracerOverride = null;
        ObserveRuntime.SetCaptureEnabled(true);
        await _tracer.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task SyncCalls_NestAndRecordInputsByParameterAndOutputs()
    {
        ObservedSamples.Answer("a b", CancellationToken.None).ShouldBe("A+B");

        var spans = await FlushAsync(4);
        var answer = spans.Single(s => s.Name == "Answer");
        answer.Type.ShouldBe("agent");
        answer.IsRoot.ShouldBeTrue();
        Json(answer, "input").ShouldBe("""{"question":"a b"}""");
        answer.Attr("langfuse.observation.output").ShouldBe("A+B");
        var split = spans.Single(s => s.Name == "Split");
        split.ParentSpanId.ShouldBe(answer.SpanId);
        spans.Where(s => s.Name == "Upper").ShouldAllBe(s => s.ParentSpanId == answer.SpanId);
        spans.Select(s => s.TraceId).Distinct().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task AsyncTask_StaysOpenUntilTheTaskEnds_AndItsChildrenNest()
    {
        var length = await new ObservedSamples().LengthAsync("abc");
        var sibling = ObservedSamples.Twice(1);

        length.ShouldBe(6);
        sibling.ShouldBe(2);
        var spans = await FlushAsync(3);
        var tool = spans.Single(s => s.Name == "LengthAsync");
        tool.Type.ShouldBe("tool");
        Json(tool, "output").ShouldBe("6");
        var twice = spans.Where(s => s.Name == "Twice").ToList();
        twice.Count(s => s.ParentSpanId == tool.SpanId).ShouldBe(1);
        twice.Count(s => s.IsRoot).ShouldBe(1, "a call after the awaited one is not its child");
        tool.EndTime.ShouldBeGreaterThanOrEqualTo(twice.Single(s => s.ParentSpanId == tool.SpanId).EndTime);
        LangfuseTracer.CurrentObservation.ShouldBeNull();
    }

    [Fact]
    public async Task Exception_IsRecordedAsError_AndRethrownUnchanged()
    {
        var sync = Should.Throw<InvalidOperationException>(() => ObservedSamples.Throw("bad input"));
        var async = await Should.ThrowAsync<InvalidOperationException>(() => ObservedSamples.FailAsync("tool down"));

        sync.Message.ShouldBe("bad input");
        sync.StackTrace!.ShouldStartWith("   at Langfuse.Agents.Generators.Tests.ObservedSamples.Throw");
        sync.StackTrace.ShouldNotContain("Intercept");
        async.Message.ShouldBe("tool down");
        var spans = await FlushAsync(2);
        spans.ShouldAllBe(s => s.Attr("langfuse.observation.level") == "ERROR");
        spans.Single(s => s.Name == "Throw").Attr("langfuse.observation.status_message").ShouldBe("InvalidOperationException: bad input");
        spans.Single(s => s.Name == "FailAsync").Attr("langfuse.observation.status_message").ShouldBe("InvalidOperationException: tool down");
        LangfuseTracer.CurrentObservation.ShouldBeNull();
    }

    [Fact]
    public async Task Cancellation_IsRecordedAsCancelled()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        await Should.ThrowAsync<TaskCanceledException>(() => ObservedSamples.WaitAsync(cancel.Token).AsTask());

        var span = (await FlushAsync(1)).Single();
        span.Attr("langfuse.observation.status_message")!.ShouldStartWith("Cancelled");
        span.Attr("langfuse.observation.input").ShouldBeNull("a CancellationToken is plumbing, not input");
    }

    [Fact]
    public async Task OutputSetByTheMethod_WinsOverTheReturnValue()
    {
        ObservedSamples.SetsOwnOutput("returned").ShouldBe("returned");

        var span = (await FlushAsync(1)).Single();
        span.Attr("langfuse.observation.output").ShouldBe("set by hand");
    }

    [Fact]
    public async Task AsyncStream_StaysOpenWhileConsumed_JoinsTextOutput_AndNestsCallsMadeWhileStreaming()
    {
        var words = new List<string>();
        await foreach (var word in ObservedSamples.StreamAsync("hello langfuse"))
        {
            words.Add(word);
            LangfuseTracer.CurrentObservation.ShouldBeNull("the consumer's own context is untouched");
        }

        string.Concat(words).ShouldBe("HELLO LANGFUSE ");
        var spans = await FlushAsync(3);
        var stream = spans.Single(s => s.Name == "StreamAsync");
        stream.Type.ShouldBe("generation");
        stream.Attr("langfuse.observation.output").ShouldBe("HELLO LANGFUSE ");
        spans.Where(s => s.Name == "Upper").ShouldAllBe(s => s.ParentSpanId == stream.SpanId);
    }

    [Fact]
    public async Task AsyncStream_LeftEarly_EndsOnDispose_WithTheItemsSoFar()
    {
        await foreach (var number in ObservedSamples.NumbersAsync(10))
        {
            if (number == 2)
            {
                break;
            }
        }

        var span = (await FlushAsync(1)).Single();
        Json(span, "output").ShouldBe("[0,1,2]");
    }

    [Fact]
    public async Task PrivateGenericAndPrivateStaticClassMethods_AreReachedThroughUnsafeAccessor()
    {
        ObservedSamples.CallPrivateGeneric(7).ShouldBe(7);
        StaticSamples.CallHidden("hi").ShouldBe("hi!");
        await ObservedSamples.DoneAsync();

        var spans = await FlushAsync(3);
        spans.Select(s => s.Name).Order().ShouldBe(["DoneAsync", "Hidden", "Identity"]);
        Json(spans.Single(s => s.Name == "Identity"), "input").ShouldBe("""{"value":7}""");
    }

    [Fact]
    public async Task CaptureOff_RecordsNeitherInputNorOutput()
    {
        ObserveRuntime.SetCaptureEnabled(false);

        ObservedSamples.Twice(4).ShouldBe(8);

        var span = (await FlushAsync(1)).Single();
        span.Attr("langfuse.observation.input").ShouldBeNull();
        span.Attr("langfuse.observation.output").ShouldBeNull();
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("true", true)]
    [InlineData("False", false)]
    [InlineData(" false ", false)]
    public void CaptureVariable_OnlyFalseTurnsCaptureOff(string? value, bool expected) =>
        ObserveRuntime.ReadCaptureEnabled(name => name == ObserveRuntime.CaptureVariable ? value : null).ShouldBe(expected);

    private async Task<IReadOnlyList<ReceivedSpan>> FlushAsync(int expected)
    {
        (await _tracer.FlushAsync()).Completed.ShouldBeTrue();
        await _server.WaitForSpansAsync(expected);
        _server.Spans.Count.ShouldBe(expected, _server.Describe());
        return _server.Spans;
    }

    private static string? Json(ReceivedSpan span, string field)
    {
        var text = span.Attr("langfuse.observation." + field);
        return text is null ? null : JsonSerializer.Serialize(JsonDocument.Parse(text).RootElement);
    }
}
