using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.AspNetCore.Tests;

/// <summary>A real Kestrel server on loopback with the middleware, called by an HttpClient with the propagation handler.</summary>
public sealed class LangfuseTraceContextMiddlewareTests : IAsyncLifetime
{
    private const string CallerTrace = "0af7651916cd43dd8448eb211c80319c";
    private const string CallerSpan = "b7ad6b7169203331";

    private readonly LangfuseCapture _capture = new();
    private readonly ConcurrentQueue<LangfuseObservation> _handled = new();
    private LangfuseTracer _tracer = null!;
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _tracer = new LangfuseTracer(new LangfuseOptions { Capture = _capture });
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddLangfuseTraceContext();
        _app = builder.Build();
        _app.UseLangfuseTraceContext();
        _app.MapGet("/agent", async () =>
        {
            await using var agent = _tracer.StartAgent("searcher");
            await Task.Yield();
            using (_tracer.StartTool("web_search"))
            {
            }

            _handled.Enqueue(agent);
            return "ok";
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _tracer.DisposeAsync();
    }

    [Fact]
    public async Task Request_WithTraceparent_WithoutActivityListener_ContinuesTheCallersTrace()
    {
        var agent = await CallAsync($"00-{CallerTrace}-{CallerSpan}-01", baggage: null);

        agent.TraceId.ShouldBe(CallerTrace);
        agent.ParentId.ShouldBe(CallerSpan);
        agent.IsSampled.ShouldBeTrue();
        var tool = _capture.Observations.Single(o => o.Name == "web_search");
        tool.ParentId.ShouldBe(agent.Id);
        tool.TraceId.ShouldBe(CallerTrace);
    }

    [Fact]
    public async Task Request_WithTraceparent_WithActivityListener_ParentsOnTheCallersSpanNotTheServerActivity()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);

        var agent = await CallAsync($"00-{CallerTrace}-{CallerSpan}-01", baggage: null);

        agent.TraceId.ShouldBe(CallerTrace);
        agent.ParentId.ShouldBe(CallerSpan, "Langfuse never receives ASP.NET Core's server Activity");
    }

    [Fact]
    public async Task Request_WithUnsampledTraceparent_KeepsTheCallersDecision()
    {
        var agent = await CallAsync($"00-{CallerTrace}-{CallerSpan}-00", baggage: null);

        agent.IsSampled.ShouldBeFalse();
        _capture.Observations.ShouldBeEmpty();
    }

    [Fact]
    public async Task Request_WithBaggage_PutsSessionAndUserOnTheTrace()
    {
        var agent = await CallAsync($"00-{CallerTrace}-{CallerSpan}-01", "langfuse_session_id=chat%201,langfuse_user_id=ana");

        agent.Trace.SessionId.ShouldBe("chat 1");
        agent.Trace.UserId.ShouldBe("ana");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-traceparent")]
    public async Task Request_WithoutValidTraceparent_StartsANewTrace(string? traceparent)
    {
        var agent = await CallAsync(traceparent, baggage: null);

        agent.TraceId.ShouldNotBe(CallerTrace);
        agent.ParentId.ShouldBeNull();
    }

    [Fact]
    public async Task Call_ThroughPropagationHandler_NestsTheServersObservationsUnderTheCallersSpan()
    {
        using var client = new HttpClient(new LangfusePropagationHandler(new SocketsHttpHandler()) { IncludeBaggage = true })
        {
            BaseAddress = _client.BaseAddress,
        };
        using var root = _tracer.StartTrace("query", sessionId: "s-1", userId: "u-1");
        using var delegation = _tracer.StartSpan("delegate");

        (await client.GetStringAsync(new Uri("/agent", UriKind.Relative))).ShouldBe("ok");

        _handled.TryDequeue(out var agent).ShouldBeTrue();
        agent.TraceId.ShouldBe(root.TraceId);
        agent.ParentId.ShouldBe(delegation.Id);
        agent.Trace.SessionId.ShouldBe("s-1");
        agent.Trace.UserId.ShouldBe("u-1");
    }

    private async Task<LangfuseObservation> CallAsync(string? traceparent, string? baggage)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/agent");
        if (traceparent is not null)
        {
            request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        }

        if (baggage is not null)
        {
            request.Headers.TryAddWithoutValidation("baggage", baggage);
        }

        using var response = await _client.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        _handled.TryDequeue(out var agent).ShouldBeTrue();
        return agent;
    }
}
