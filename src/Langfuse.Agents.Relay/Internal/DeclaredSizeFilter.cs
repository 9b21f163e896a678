using Microsoft.AspNetCore.Http;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Langfuse (Next.js) limits the batch body before its authentication runs, so a declared length over the limit gets
/// the 413 text before the credentials are looked at. Runs ahead of <see cref="ClientAuthFilter"/> on that endpoint.
/// </summary>
internal sealed class DeclaredSizeFilter(long limit, string text, RelayMetrics metrics) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.HttpContext.Request.ContentLength > limit)
        {
            metrics.Rejected(RelayRejection.TooLarge);
            return TypedResults.Text(text, "text/plain; charset=utf-8", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        return await next(context);
    }
}
