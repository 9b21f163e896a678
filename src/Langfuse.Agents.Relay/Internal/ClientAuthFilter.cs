using Langfuse.Agents.Relay.Internal.Json;
using Microsoft.AspNetCore.Http;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// The one place the relay checks a client's Basic credentials (an endpoint filter on every endpoint that needs
/// them). <see cref="ClientAccess.Required"/> answers Langfuse's 401 to a wrong or missing key;
/// <see cref="ClientAccess.RequiredBeyondLoopback"/> (<c>/relay/status</c>) lets an unauthenticated local caller in
/// and tells the handler, through <see cref="IsAuthenticated"/>, to leave the paths out.
/// </summary>
internal sealed class ClientAuthFilter(ClientCredentials credentials, RelayMetrics metrics, ClientAccess access, Func<bool> listensBeyondLoopback) : IEndpointFilter
{
    public const string InvalidCredentials = "Invalid credentials. Confirm that you've configured the correct host.";
    private const string StatusNeedsCredentials = "Invalid credentials. /relay/status needs the relay's client keys when it listens beyond loopback.";

    private static readonly object AuthenticatedKey = new();

    /// <summary>Whether this request presented the client keys (set by the filter before the handler runs).</summary>
    public static bool IsAuthenticated(HttpContext context) => context.Items.TryGetValue(AuthenticatedKey, out var value) && value is true;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var authenticated = credentials.Verify(http.Request.Headers.Authorization.ToString());
        if (!authenticated && (access == ClientAccess.Required || listensBeyondLoopback()))
        {
            metrics.Rejected(RelayRejection.Unauthorized);
            return TypedResults.Json(
                new MessageBody(access == ClientAccess.Required ? InvalidCredentials : StatusNeedsCredentials),
                RelayJsonContext.Default.MessageBody,
                statusCode: StatusCodes.Status401Unauthorized);
        }

        http.Items[AuthenticatedKey] = authenticated;
        return await next(context);
    }
}
