using Langfuse.Agents.AspNetCore;
using Langfuse.Agents.AspNetCore.Internal;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds Langfuse trace continuation to an ASP.NET Core pipeline.</summary>
public static class LangfuseApplicationBuilderExtensions
{
    /// <summary>
    /// Makes the observations an endpoint starts continue the caller's trace: with a W3C <c>traceparent</c> on the
    /// request, an observation started with no current observation becomes a child of the caller's span, follows the
    /// caller's sampled flag, and (by default) takes the session and user ids from the <c>baggage</c> header.
    /// Works with or without an <see cref="System.Diagnostics.Activity"/> listener. Add it early, before the endpoints.
    /// </summary>
    /// <param name="app">The application builder.</param>
    /// <returns>The application builder.</returns>
    public static IApplicationBuilder UseLangfuseTraceContext(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<LangfuseTraceContextMiddleware>();
    }
}
