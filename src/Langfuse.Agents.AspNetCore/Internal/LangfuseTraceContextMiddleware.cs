using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Langfuse.Agents.AspNetCore.Internal;

/// <summary>
/// Reads <c>traceparent</c> (and optionally <c>baggage</c>) from each request and makes the observations started while
/// handling it children of the caller's span. It does not depend on an <see cref="System.Diagnostics.Activity"/>
/// listener: the context flows with the request's async flow.
/// </summary>
internal sealed class LangfuseTraceContextMiddleware(RequestDelegate next, IOptions<LangfuseTraceContextOptions> options)
{
    private readonly bool _readBaggage = options.Value.ReadBaggage;

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        var traceparent = headers[LangfuseTraceContext.TraceparentHeader];
        if (traceparent.Count != 1)
        {
            return next(context); // none, or several (invalid per W3C): nothing to continue
        }

        string? baggage = null;
        if (_readBaggage && headers.TryGetValue(LangfuseTraceContext.BaggageHeader, out var values) && values.Count > 0)
        {
            baggage = values.Count == 1 ? values[0] : string.Join(',', values.ToArray());
        }

        return LangfuseTraceContext.TryParse(traceparent[0], baggage, out var caller)
            ? InvokeWithinAsync(context, caller)
            : next(context);
    }

    private async Task InvokeWithinAsync(HttpContext context, LangfuseTraceContext caller)
    {
        using (LangfuseTracer.ContinueTrace(caller))
        {
            await next(context).ConfigureAwait(false);
        }
    }
}
