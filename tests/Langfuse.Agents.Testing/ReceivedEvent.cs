using System.Globalization;
using System.Text.Json;

namespace Langfuse.Agents.Testing;

/// <summary>One event of a batch sent to <c>/api/public/ingestion</c>.</summary>
/// <param name="Id">Envelope id.</param>
/// <param name="Type">Event type, such as <c>score-create</c>.</param>
/// <param name="Timestamp">Envelope timestamp as sent.</param>
/// <param name="Body">Event body (a detached copy).</param>
/// <param name="Envelope">The whole event as sent (a detached copy).</param>
public sealed record ReceivedEvent(string Id, string Type, string Timestamp, JsonElement Body, JsonElement Envelope)
{
    /// <summary><c>body.id</c>, or null.</summary>
    public string? BodyId => Field("id");

    /// <summary><c>body.traceId</c>, or null.</summary>
    public string? TraceId => Field("traceId");

    /// <summary><c>body.name</c>, or null.</summary>
    public string? Name => Field("name");

    /// <summary>
    /// String form of a top-level body field, or null when absent or JSON null: strings as they are, other
    /// values as their raw JSON text.
    /// </summary>
    public string? Field(string name)
    {
        if (Body.ValueKind != JsonValueKind.Object || !Body.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            JsonValueKind.String => value.GetString(),
            _ => value.GetRawText(),
        };
    }

    /// <summary>Envelope timestamp parsed, or null if it is not a valid date.</summary>
    public DateTimeOffset? ParsedTimestamp =>
        DateTimeOffset.TryParse(Timestamp, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value) ? value : null;

    /// <inheritdoc />
    public override string ToString() => $"{Type} {Id} (body.id={BodyId ?? "-"})";
}
