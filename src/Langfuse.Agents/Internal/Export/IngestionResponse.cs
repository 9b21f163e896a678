using System.Text.Json;
using System.Text.Json.Serialization;

namespace Langfuse.Agents.Internal.Export;

/// <summary>The <c>207 Multi-Status</c> answer of <c>POST /api/public/ingestion</c>: one entry per event.</summary>
internal sealed class IngestionResponse
{
    [JsonPropertyName("successes")]
    public List<IngestionSuccess>? Successes { get; set; }

    [JsonPropertyName("errors")]
    public List<IngestionError>? Errors { get; set; }

    /// <summary>
    /// Reads a 207 body. Missing or null arrays become empty and null entries are dropped; unknown fields are
    /// ignored. Returns null, never throws, when the body is not such an object (the caller treats that as a failure).
    /// </summary>
    public static IngestionResponse? TryParse(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            return Normalize(JsonSerializer.Deserialize(utf8Json, LangfuseJsonContext.Default.IngestionResponse));
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <inheritdoc cref="TryParse(ReadOnlySpan{byte})"/>
    public static IngestionResponse? TryParse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return Normalize(JsonSerializer.Deserialize(json, LangfuseJsonContext.Default.IngestionResponse));
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static IngestionResponse? Normalize(IngestionResponse? response)
    {
        if (response is null)
        {
            return null;
        }

        response.Successes = response.Successes is null ? [] : [.. response.Successes.Where(static s => s is not null)];
        response.Errors = response.Errors is null ? [] : [.. response.Errors.Where(static e => e is not null)];
        return response;
    }
}

/// <summary>An accepted event.</summary>
internal sealed class IngestionSuccess
{
    /// <summary>The event's envelope id.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("status")]
    public int Status { get; set; }
}

/// <summary>A rejected event.</summary>
internal sealed class IngestionError
{
    /// <summary>The event's envelope id.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    /// <summary>400 invalid (or not accepted on v4 servers), 401, 404, 500 (worth retrying).</summary>
    [JsonPropertyName("status")]
    public int Status { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }

    /// <summary>A string or an object (for example zod issues), as Langfuse sent it.</summary>
    [JsonPropertyName("error")]
    public JsonElement? Error { get; set; }

    /// <summary>The error as text for logs: the string itself, or the raw JSON of an object.</summary>
    [JsonIgnore]
    public string? ErrorText => Error switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } e => e.GetString(),
        { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
        { } e => e.GetRawText(),
    };
}
