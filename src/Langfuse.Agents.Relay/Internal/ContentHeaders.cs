using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Reads <c>Content-Type</c> and <c>Content-Encoding</c> the way the forwarder will send them again: one header value,
/// parsed as a media type (not searched for a substring, as Langfuse does), and stored in a normalised form that
/// <c>HttpClient</c> always accepts. What Langfuse itself refuses is answered as Langfuse answers it (400); what Langfuse
/// would take but the relay could never forward (<c>x application/x-protobuf</c>, the header twice) gets 415.
/// </summary>
internal static class ContentHeaders
{
    public const string Protobuf = "application/x-protobuf";
    public const string Json = "application/json";

    private const int MaxEchoedLength = 100;

    /// <summary>The OTLP body's normalised content type (<see cref="Protobuf"/> or <see cref="Json"/>), or why not.</summary>
    public static HeaderCheck OtlpContentType(StringValues header)
    {
        var text = header.ToString();
        var lower = text.ToLowerInvariant();
        if (!lower.Contains(Protobuf, StringComparison.Ordinal) && !lower.Contains(Json, StringComparison.Ordinal))
        {
            return HeaderCheck.Refuse(400, $"Unsupported content type '{Echo(text)}'; use application/x-protobuf or application/json");
        }

        return SingleMediaType(header) switch
        {
            Protobuf => HeaderCheck.Accept(Protobuf),
            Json => HeaderCheck.Accept(Json),
            _ => HeaderCheck.Refuse(415, $"Content-Type '{Echo(text)}' is not one media type application/x-protobuf or application/json"),
        };
    }

    /// <summary>Whether the batch body is declared as JSON: one well-formed <c>application/json</c> media type.</summary>
    public static bool IsJson(StringValues header) => SingleMediaType(header) == Json;

    /// <summary>Null for no encoding (or <c>identity</c>), <c>gzip</c>, or an error: one value, and only those.</summary>
    public static HeaderCheck ContentEncoding(StringValues header)
    {
        if (header.Count == 0)
        {
            return HeaderCheck.Accept(null);
        }

        var text = header.ToString();
        var value = header.Count == 1 ? text.Trim() : null;
        if (string.IsNullOrEmpty(value) && header.Count == 1)
        {
            return HeaderCheck.Accept(null);
        }

        return value?.ToLowerInvariant() switch
        {
            "identity" => HeaderCheck.Accept(null),
            "gzip" => HeaderCheck.Accept("gzip"),
            _ => HeaderCheck.Refuse(400, $"Unsupported Content-Encoding '{Echo(text)}'; use gzip or none"),
        };
    }

    private static string? SingleMediaType(StringValues header)
    {
        if (header.Count != 1 || !MediaTypeHeaderValue.TryParse(header[0], out var parsed) || parsed.MediaType.Value is not { } mediaType)
        {
            return null;
        }

        // OTLP/JSON and batch JSON are UTF-8 (RFC 8259); any other charset would be read wrongly upstream.
        if (parsed.Charset.HasValue && !parsed.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return mediaType.ToLowerInvariant();
    }

    /// <summary>Untrusted header text, cut short and without control characters, for an error message.</summary>
    private static string Echo(string text)
    {
        var cut = text.Length > MaxEchoedLength ? text[..MaxEchoedLength] + "..." : text;
        return string.Create(cut.Length, cut, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }
}
