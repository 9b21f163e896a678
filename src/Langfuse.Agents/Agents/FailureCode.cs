using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;

namespace Langfuse.Agents;

/// <summary>
/// What went wrong, as a short snake_case code that Langfuse can filter on (metadata <c>failure.code</c>). Use the
/// well-known codes (<see cref="Timeout"/>, <see cref="RateLimited"/>, <see cref="SchemaInvalid"/>,
/// <see cref="ConnectionFailed"/>, ...) or any code of your own: a string converts implicitly and is normalized to
/// lowercase letters, digits and <c>_</c>, at most 64 characters.
/// </summary>
/// <remarks>
/// A code is structure, not text: it is kept in privacy mode, so never put user data in one.
/// The default value is <see cref="Unknown"/>.
/// </remarks>
public readonly struct FailureCode : IEquatable<FailureCode>
{
    private const int MaxLength = 64;
    private readonly string? _value;

    /// <summary>Creates a code, normalized to lowercase letters, digits and <c>_</c> (other characters become <c>_</c>).</summary>
    /// <param name="value">The code, for example <c>quota_exceeded</c>; empty or null gives <see cref="Unknown"/>.</param>
    public FailureCode(string? value) => _value = Normalize(value);

    /// <summary>The call took too long (<c>timeout</c>).</summary>
    public static FailureCode Timeout { get; } = new("timeout");

    /// <summary>The provider refused for rate or quota reasons, for example HTTP 429 (<c>rate_limited</c>).</summary>
    public static FailureCode RateLimited { get; } = new("rate_limited");

    /// <summary>A response did not match the expected schema, for example unparsable JSON from a model (<c>schema_invalid</c>).</summary>
    public static FailureCode SchemaInvalid { get; } = new("schema_invalid");

    /// <summary>The connection could not be made or broke mid-request (<c>connection_failed</c>).</summary>
    public static FailureCode ConnectionFailed { get; } = new("connection_failed");

    /// <summary>The service answered that it is unavailable, for example HTTP 5xx (<c>unavailable</c>).</summary>
    public static FailureCode Unavailable { get; } = new("unavailable");

    /// <summary>The credentials were refused, HTTP 401 or 403 (<c>unauthorized</c>).</summary>
    public static FailureCode Unauthorized { get; } = new("unauthorized");

    /// <summary>The thing asked for does not exist, HTTP 404 (<c>not_found</c>).</summary>
    public static FailureCode NotFound { get; } = new("not_found");

    /// <summary>The request was refused as invalid, HTTP 400 or 422 (<c>invalid_request</c>).</summary>
    public static FailureCode InvalidRequest { get; } = new("invalid_request");

    /// <summary>The prompt or answer exceeded the model's context window (<c>context_length_exceeded</c>).</summary>
    public static FailureCode ContextLengthExceeded { get; } = new("context_length_exceeded");

    /// <summary>A safety filter or guardrail blocked the content (<c>content_filtered</c>).</summary>
    public static FailureCode ContentFiltered { get; } = new("content_filtered");

    /// <summary>The work was cancelled (<c>cancelled</c>).</summary>
    public static FailureCode Cancelled { get; } = new("cancelled");

    /// <summary>No better code is known (<c>unknown</c>).</summary>
    public static FailureCode Unknown { get; } = new("unknown");

    /// <summary>The normalized code, for example <c>rate_limited</c>.</summary>
    public string Value => _value ?? "unknown";

    /// <summary>Converts a string to a code (normalized; see <see cref="FailureCode(string)"/>).</summary>
    /// <param name="value">The code.</param>
    public static implicit operator FailureCode(string? value) => new(value);

    /// <summary>Equality by normalized value.</summary>
    /// <param name="left">One code.</param>
    /// <param name="right">The other code.</param>
    public static bool operator ==(FailureCode left, FailureCode right) => left.Equals(right);

    /// <summary>Inequality by normalized value.</summary>
    /// <param name="left">One code.</param>
    /// <param name="right">The other code.</param>
    public static bool operator !=(FailureCode left, FailureCode right) => !left.Equals(right);

    /// <summary>
    /// The usual code for an exception: <see cref="TimeoutException"/> and an <see cref="HttpClient"/> timeout give
    /// <c>timeout</c>; cancellation <c>cancelled</c>; an <see cref="HttpRequestException"/> with a status gives
    /// <c>rate_limited</c> (429), <c>unauthorized</c> (401, 403), <c>not_found</c> (404), <c>timeout</c> (408, 504),
    /// <c>invalid_request</c> (400, 422) or <c>unavailable</c> (other 5xx), and without one, like a
    /// <see cref="SocketException"/> or <see cref="IOException"/>, <c>connection_failed</c>; a <see cref="JsonException"/>
    /// <c>schema_invalid</c>; anything else <c>unknown</c>. Inner exceptions are looked at too.
    /// </summary>
    /// <param name="exception">The exception; null gives <see cref="Unknown"/>.</param>
    /// <returns>The code.</returns>
    public static FailureCode FromException(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case TimeoutException:
                    return Timeout;
                case TaskCanceledException when current.InnerException is TimeoutException:
                    return Timeout; // HttpClient.Timeout
                case HttpRequestException { StatusCode: { } status }:
                    return FromStatus(status);
                case HttpRequestException:
                case SocketException:
                case IOException:
                    return ConnectionFailed;
                case JsonException:
                    return SchemaInvalid;
            }
        }

        return exception is OperationCanceledException ? Cancelled : Unknown;
    }

    /// <inheritdoc />
    public bool Equals(FailureCode other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is FailureCode other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    /// <inheritdoc />
    public override string ToString() => Value;

    private static FailureCode FromStatus(HttpStatusCode status) => (int)status switch
    {
        429 => RateLimited,
        401 or 403 => Unauthorized,
        404 => NotFound,
        408 or 504 => Timeout,
        400 or 422 => InvalidRequest,
        >= 500 => Unavailable,
        _ => Unknown,
    };

    private static string? Normalize(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var span = value.AsSpan().Trim();
        if (span.Length > MaxLength)
        {
            span = span[..MaxLength];
        }

        return string.Create(span.Length, span, static (destination, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = char.ToLowerInvariant(source[i]);
                destination[i] = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' ? c : '_';
            }
        });
    }
}
