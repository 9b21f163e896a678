using System.Text.Json.Nodes;

namespace Langfuse.Agents.Testing.Internal;

/// <summary>A response the fake is about to write.</summary>
internal sealed record Answer(int Status, string Body, string ContentType = "application/json; charset=utf-8")
{
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static Answer Json(int status, JsonNode body) => new(status, body.ToJsonString());

    public static Answer Message(int status, string message) => Json(status, new JsonObject { ["message"] = message });

    public static Answer Text(int status, string text) => new(status, text, "text/plain; charset=utf-8");

    /// <summary>The body real Langfuse (or the proxy in front of it) sends for a status.</summary>
    public static Answer ForStatus(int status, string? retryAfter, string? body)
    {
        Answer answer;
        if (body is not null)
        {
            answer = new Answer(status, body, body.TrimStart().StartsWith('{') ? "application/json; charset=utf-8" : "text/plain; charset=utf-8");
        }
        else if (status == 429)
        {
            var seconds = int.TryParse(retryAfter, out var parsed) ? parsed : 60;
            answer = Json(429, new JsonObject
            {
                ["message"] = "Rate limit exceeded",
                ["code"] = "rate_limited",
                ["details"] = new JsonObject
                {
                    ["retryAfterSeconds"] = seconds,
                    ["limit"] = 1000,
                    ["remaining"] = 0,
                    ["resetAt"] = DateTimeOffset.UtcNow.AddSeconds(seconds).ToString("O"),
                },
            });
            answer.Headers["X-RateLimit-Limit"] = "1000";
            answer.Headers["X-RateLimit-Remaining"] = "0";
            answer.Headers["X-RateLimit-Reset"] = DateTimeOffset.UtcNow.AddSeconds(seconds).ToString("R");
        }
        else if (status == 413)
        {
            answer = Text(413, "Body exceeded 4.5mb limit");
        }
        else
        {
            answer = Message(status, status switch
            {
                400 => "Invalid request data",
                401 => "Unauthorized",
                403 => "Ingestion suspended: Usage threshold exceeded",
                404 => "Not found",
                405 => "Method not allowed",
                500 => "Internal Server Error",
                502 => "Bad Gateway",
                503 => "Service Unavailable",
                504 => "Gateway Timeout",
                _ => $"Error {status}",
            });
        }

        if (retryAfter is not null)
        {
            answer.Headers["Retry-After"] = retryAfter;
        }

        return answer;
    }
}
