namespace Langfuse.Agents.Internal.Http;

/// <summary>What an endpoint answered: the status, a <c>Retry-After</c> if any, and the start of the body.</summary>
/// <param name="StatusCode">The HTTP status code.</param>
/// <param name="RetryAfter">The server's requested wait, unclamped; null when absent or unparseable.</param>
/// <param name="Body">The response body (capped), for 207 results and error messages.</param>
internal sealed record ApiResponse(int StatusCode, TimeSpan? RetryAfter, string? Body)
{
    public bool IsSuccess => StatusCode is >= 200 and < 300;
}
