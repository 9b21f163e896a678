namespace Langfuse.Agents.Testing;

/// <summary>A planned answer that replaces (or delays) the server's normal one for one request.</summary>
public sealed class FakeResponse
{
    private FakeResponse(FakeResponseKind kind)
    {
        Kind = kind;
    }

    /// <summary>What the fault does.</summary>
    public FakeResponseKind Kind { get; }

    /// <summary>Status answered, for <see cref="FakeResponseKind.Status"/>.</summary>
    public int StatusCode { get; private init; }

    /// <summary><c>Retry-After</c> header value, if any.</summary>
    public string? RetryAfter { get; private init; }

    /// <summary>Body answered; null picks the body real Langfuse sends for that status.</summary>
    public string? Body { get; private init; }

    /// <summary>How long the answer is held back, for <see cref="FakeResponseKind.Delay"/>.</summary>
    public TimeSpan DelayBy { get; private init; }

    /// <summary>
    /// Answer <paramref name="statusCode"/> without processing the request. 429 gets the Langfuse rate-limit
    /// JSON body and <c>X-RateLimit-*</c> headers; 413 gets <c>Body exceeded 4.5mb limit</c>; others <c>{"message":...}</c>.
    /// </summary>
    public static FakeResponse Status(int statusCode, string? retryAfter = null, string? body = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        return new FakeResponse(FakeResponseKind.Status) { StatusCode = statusCode, RetryAfter = retryAfter, Body = body };
    }

    /// <summary>Hold the answer back for <paramref name="delay"/> (real time), then process the request normally.</summary>
    public static FakeResponse Delay(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return new FakeResponse(FakeResponseKind.Delay) { DelayBy = delay };
    }

    /// <summary>Read the request, then abort the connection without an answer (the client sees an <see cref="HttpRequestException"/>).</summary>
    public static FakeResponse DropConnection() => new(FakeResponseKind.DropConnection);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        FakeResponseKind.Status => RetryAfter is null ? $"status {StatusCode}" : $"status {StatusCode} (Retry-After {RetryAfter})",
        FakeResponseKind.Delay => $"delay {DelayBy}",
        _ => "drop connection",
    };
}

/// <summary>Kinds of <see cref="FakeResponse"/>.</summary>
public enum FakeResponseKind
{
    /// <summary>Answer a fixed status.</summary>
    Status,

    /// <summary>Delay, then answer normally.</summary>
    Delay,

    /// <summary>Abort the connection.</summary>
    DropConnection,
}
