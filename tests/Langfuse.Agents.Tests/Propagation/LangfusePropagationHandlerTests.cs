using System.Net;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Propagation;

public sealed class LangfusePropagationHandlerTests : IDisposable
{
    private readonly LangfuseTracer _tracer = new(new LangfuseOptions { Capture = new LangfuseCapture() });
    private readonly RecordingHandler _inner = new();

    public void Dispose()
    {
        _tracer.Dispose();
        _inner.Dispose();
    }

    [Fact]
    public async Task Send_WithCurrentObservation_SetsTraceparentWithItsIdsAndSampledFlag()
    {
        using var root = _tracer.StartTrace("query");
        using var delegation = _tracer.StartSpan("delegate");

        await SendAsync(new LangfusePropagationHandler(_inner));

        _inner.Header("traceparent").ShouldBe($"00-{delegation.TraceId}-{delegation.Id}-01");
        _inner.Header("baggage").ShouldBeNull("baggage is opt-in");
    }

    [Fact]
    public async Task Send_WhenTraceIsSampledOut_SendsTheUnsampledFlagSoTheCalleeDropsItToo()
    {
        await using var tracer = new LangfuseTracer(new LangfuseOptions { SampleRate = 0, Capture = new LangfuseCapture() });
        using var root = tracer.StartTrace("query");

        await SendAsync(new LangfusePropagationHandler(_inner));

        _inner.Header("traceparent").ShouldBe($"00-{root.TraceId}-{root.Id}-00");
    }

    [Fact]
    public async Task Send_WithoutCurrentObservation_AddsNoHeader()
    {
        LangfuseTracer.CurrentObservation.ShouldBeNull();

        await SendAsync(new LangfusePropagationHandler(_inner) { IncludeBaggage = true });

        _inner.Header("traceparent").ShouldBeNull();
        _inner.Header("baggage").ShouldBeNull();
    }

    [Fact]
    public async Task Send_WithBaggageOptIn_SendsSessionAndUserPercentEncoded()
    {
        using var root = _tracer.StartTrace("query", sessionId: "chat 42,ü=x", userId: "ana@example.com");
        using var child = _tracer.StartAgent("coordinator");

        await SendAsync(new LangfusePropagationHandler(_inner) { IncludeBaggage = true });

        _inner.Header("baggage").ShouldBe("langfuse_session_id=chat%2042%2C%C3%BC%3Dx,langfuse_user_id=ana%40example.com,langfuse_trace_name=query");
        LangfuseTraceContext.TryParse(_inner.Header("traceparent"), _inner.Header("baggage"), out var received).ShouldBeTrue();
        received.SessionId.ShouldBe("chat 42,ü=x");
        received.UserId.ShouldBe("ana@example.com");
        received.ParentId.ShouldBe(child.Id);
    }

    [Fact]
    public async Task Send_WithBaggageOptInButNoTraceAttributes_SendsNoBaggage()
    {
        using var root = _tracer.StartSpan("no trace attributes at all");

        await SendAsync(new LangfusePropagationHandler(_inner) { IncludeBaggage = true });

        _inner.Header("traceparent").ShouldNotBeNull();
        _inner.Header("baggage").ShouldBeNull();
    }

    [Fact]
    public async Task Send_WithExistingHeaders_ReplacesTraceparentAndKeepsOtherBaggageMembers()
    {
        using var root = _tracer.StartTrace("query", sessionId: "s1");
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/");
        request.Headers.TryAddWithoutValidation("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        request.Headers.TryAddWithoutValidation("tracestate", "other=1");
        request.Headers.TryAddWithoutValidation("baggage", "tenant=acme,langfuse_session_id=old,langfuse_tags=stale");

        using var client = new HttpClient(new LangfusePropagationHandler(_inner) { IncludeBaggage = true });
        using var response = await client.SendAsync(request);

        _inner.Header("traceparent").ShouldBe($"00-{root.TraceId}-{root.Id}-01");
        _inner.Header("tracestate").ShouldBeNull();
        _inner.Header("baggage").ShouldBe("tenant=acme,langfuse_session_id=s1,langfuse_trace_name=query", "every langfuse_ member is the current trace's");
    }

    [Fact]
    public void SyncSend_SetsTraceparentToo()
    {
        using var root = _tracer.StartTrace("query");
        using var client = new HttpClient(new LangfusePropagationHandler(_inner));
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/");

        using var response = client.Send(request);

        _inner.Header("traceparent").ShouldBe($"00-{root.TraceId}-{root.Id}-01");
    }

    private static async Task SendAsync(LangfusePropagationHandler handler)
    {
        using var client = new HttpClient(handler);
        using var response = await client.GetAsync(new Uri("http://127.0.0.1/"));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        private HttpRequestMessage? _last;

        public string? Header(string name) =>
            _last is not null && _last.Headers.TryGetValues(name, out var values) ? string.Join(',', values) : null;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(Send(request, cancellationToken));

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            _last = request;
            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }
}
