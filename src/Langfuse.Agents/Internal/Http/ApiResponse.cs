using Langfuse.Agents.Internal.Export;

namespace Langfuse.Agents.Internal.Http;

/// <summary>What an endpoint answered: the status, a <c>Retry-After</c> if any, and the start of the body.</summary>
/// <param name="StatusCode">The HTTP status code.</param>
/// <param name="RetryAfter">The server's requested wait, unclamped; null when absent or unparseable.</param>
/// <param name="Body">The response body (capped), for error messages; null for a 207 of the batch endpoint, which is read into <paramref name="Results"/>.</param>
/// <param name="Results">
/// A 207 of the batch endpoint, read per event; null when it could not be read (or for any other answer), in which case
/// every event of the request is unknown: resent, never counted as delivered.
/// </param>
internal sealed record ApiResponse(int StatusCode, TimeSpan? RetryAfter, string? Body, IngestionResponse? Results = null)
{
    public bool IsSuccess => StatusCode is >= 200 and < 300;
}
