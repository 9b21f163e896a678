using System.Globalization;
using System.Text.Json;

namespace Langfuse.Agents.Testing;

/// <summary>
/// A span decoded from an accepted OTLP request. Attribute values are <see cref="string"/>, <see cref="bool"/>,
/// <see cref="long"/>, <see cref="double"/>, <see cref="T:byte[]"/>, <c>object?[]</c> for arrays and
/// <c>IReadOnlyDictionary&lt;string, object?&gt;</c> for key-value lists.
/// </summary>
public sealed record ReceivedSpan
{
    /// <summary>Trace id, 32 lowercase hex characters.</summary>
    public required string TraceId { get; init; }

    /// <summary>Span id, 16 lowercase hex characters.</summary>
    public required string SpanId { get; init; }

    /// <summary>Parent span id (16 lowercase hex characters), or null for a root span.</summary>
    public string? ParentSpanId { get; init; }

    /// <summary>W3C trace state, or empty.</summary>
    public string TraceState { get; init; } = "";

    /// <summary>Span name.</summary>
    public required string Name { get; init; }

    /// <summary>OTLP span kind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer.</summary>
    public int Kind { get; init; }

    /// <summary>Start in nanoseconds since the Unix epoch, as sent.</summary>
    public ulong StartTimeUnixNano { get; init; }

    /// <summary>End in nanoseconds since the Unix epoch, as sent.</summary>
    public ulong EndTimeUnixNano { get; init; }

    /// <summary>Start time (100 ns precision).</summary>
    public DateTimeOffset StartTime => FromUnixNanos(StartTimeUnixNano);

    /// <summary>End time (100 ns precision).</summary>
    public DateTimeOffset EndTime => FromUnixNanos(EndTimeUnixNano);

    /// <summary>Span attributes; a repeated key keeps its first value, as Langfuse does.</summary>
    public required IReadOnlyDictionary<string, object?> Attributes { get; init; }

    /// <summary>OTLP status code: 0 unset, 1 ok, 2 error.</summary>
    public int StatusCode { get; init; }

    /// <summary>Status message, or empty.</summary>
    public string StatusMessage { get; init; } = "";

    /// <summary>OTLP span flags (W3C trace flags in the low byte, remote bits above).</summary>
    public uint Flags { get; init; }

    /// <summary>Span events.</summary>
    public IReadOnlyList<ReceivedSpanEvent> Events { get; init; } = [];

    /// <summary>Number of span links.</summary>
    public int LinkCount { get; init; }

    /// <summary>Attributes of the resource the span came with.</summary>
    public required IReadOnlyDictionary<string, object?> ResourceAttributes { get; init; }

    /// <summary>Instrumentation scope name.</summary>
    public string ScopeName { get; init; } = "";

    /// <summary>Instrumentation scope version.</summary>
    public string ScopeVersion { get; init; } = "";

    /// <summary>Content type of the request that carried the span.</summary>
    public string ContentType { get; init; } = "";

    /// <summary>Value of <c>langfuse.observation.type</c>, or null.</summary>
    public string? Type => Attr("langfuse.observation.type");

    /// <summary>True when the span has no parent.</summary>
    public bool IsRoot => ParentSpanId is null;

    /// <summary>
    /// String form of an attribute, or null if absent: strings as they are, booleans <c>true</c>/<c>false</c>,
    /// numbers in invariant culture, bytes as base64, arrays and key-value lists as JSON.
    /// </summary>
    public string? Attr(string key) => Attributes.TryGetValue(key, out var value) ? Format(value) : null;

    /// <summary>String form of a resource attribute, or null if absent (same rules as <see cref="Attr"/>).</summary>
    public string? ResourceAttr(string key) => ResourceAttributes.TryGetValue(key, out var value) ? Format(value) : null;

    /// <summary>Parses a JSON-valued attribute (such as <c>langfuse.observation.usage_details</c>); null if absent.</summary>
    /// <exception cref="JsonException">The attribute is not valid JSON.</exception>
    public JsonElement? AttrJson(string key)
    {
        var text = Attr(key);
        if (text is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <inheritdoc />
    public override string ToString() => $"span '{Name}' {TraceId}/{SpanId} type={Type ?? "-"} parent={ParentSpanId ?? "-"}";

    internal static string? Format(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        _ => JsonSerializer.Serialize(ToJsonFriendly(value)),
    };

    private static object? ToJsonFriendly(object? value) => value switch
    {
        object?[] array => array.Select(ToJsonFriendly).ToArray(),
        IReadOnlyDictionary<string, object?> map => map.ToDictionary(kv => kv.Key, kv => ToJsonFriendly(kv.Value)),
        byte[] bytes => Convert.ToBase64String(bytes),
        _ => value,
    };

    private static DateTimeOffset FromUnixNanos(ulong nanos) =>
        DateTimeOffset.UnixEpoch.AddTicks((long)(nanos / 100));
}
