namespace Langfuse.Agents;

/// <summary>
/// An <see cref="HttpClient"/> handler that continues the current observation's trace in the service it calls:
/// it sets the W3C <c>traceparent</c> header (trace id, the current observation's id, the sampled flag) and, when
/// <see cref="IncludeBaggage"/> is on, W3C <c>baggage</c> with the trace's attributes (session, user, name, tags,
/// version, release, environment, metadata; see <see cref="LangfuseTraceContext"/>).
/// </summary>
/// <remarks>
/// With no current observation the request is left as it is (the runtime's own <see cref="System.Diagnostics.Activity"/>
/// propagation, if any, still applies). A <c>traceparent</c> already on the request is replaced: the current observation
/// is the more precise parent. Never throws: a failure to add headers sends the request without them.
/// With <c>IHttpClientFactory</c>: <c>services.AddHttpClient("searcher").AddLangfusePropagation()</c>.
/// </remarks>
public sealed class LangfusePropagationHandler : DelegatingHandler
{
    /// <summary>Creates a handler; set <see cref="DelegatingHandler.InnerHandler"/> (or let <c>IHttpClientFactory</c> do it).</summary>
    public LangfusePropagationHandler()
    {
    }

    /// <summary>Creates a handler in front of <paramref name="innerHandler"/>.</summary>
    /// <param name="innerHandler">The handler that sends the request, for example a <see cref="SocketsHttpHandler"/>.</param>
    public LangfusePropagationHandler(HttpMessageHandler innerHandler)
        : base(innerHandler)
    {
    }

    /// <summary>
    /// Also send the trace's attributes as W3C <c>baggage</c> (<c>langfuse_session_id</c>, <c>langfuse_user_id</c>,
    /// <c>langfuse_trace_name</c>, <c>langfuse_tags</c>, <c>langfuse_version</c>, <c>langfuse_release</c>,
    /// <c>langfuse_environment</c>, <c>langfuse_metadata_{key}</c>), so the callee's observations carry the same
    /// session, user, name, tags and release in Langfuse. Default: off, because baggage goes to every downstream
    /// service, including ones you do not own.
    /// </summary>
    public bool IncludeBaggage { get; init; }

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Inject(request);
        return base.SendAsync(request, cancellationToken);
    }

    /// <inheritdoc />
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Inject(request);
        return base.Send(request, cancellationToken);
    }

    private void Inject(HttpRequestMessage request)
    {
        if (request is null || LangfuseTracer.CurrentObservation is not { } current)
        {
            return;
        }

        try
        {
            var context = LangfuseTraceContext.FromObservation(current);
            var headers = request.Headers;
            headers.Remove(LangfuseTraceContext.TraceparentHeader);
            headers.Remove("tracestate"); // belongs to the parent we replace
            headers.TryAddWithoutValidation(LangfuseTraceContext.TraceparentHeader, context.ToTraceparent());
            if (IncludeBaggage && context.ToBaggage() is { } baggage)
            {
                // Keep members others added; ours replace any earlier value of the same keys.
                var existing = headers.TryGetValues(LangfuseTraceContext.BaggageHeader, out var values)
                    ? string.Join(',', values).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                        .Where(static m => !IsOurs(m))
                    : [];
                headers.Remove(LangfuseTraceContext.BaggageHeader);
                headers.TryAddWithoutValidation(LangfuseTraceContext.BaggageHeader, string.Join(',', existing.Append(baggage)));
            }
        }
        catch (InvalidOperationException)
        {
            // Headers of a request already sent are read-only: send it as it is rather than fail the caller.
        }
    }

    // Every langfuse_ member describes the current trace: a stale one from elsewhere must not travel beside ours.
    private static bool IsOurs(string member) => member.StartsWith(LangfuseTraceContext.BaggagePrefix, StringComparison.Ordinal);
}
