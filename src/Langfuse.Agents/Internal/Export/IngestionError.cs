using System.Text.Json;
using System.Text.Json.Serialization;

namespace Langfuse.Agents.Internal.Export;

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

    /// <summary>The error as text for logs: the string itself, or the raw JSON of an object; null when it is not readable text.</summary>
    [JsonIgnore]
    public string? ErrorText
    {
        get
        {
            try
            {
                return Error switch
                {
                    null => null,
                    { ValueKind: JsonValueKind.String } e => e.GetString(),
                    { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
                    { } e => e.GetRawText(),
                };
            }
            catch (InvalidOperationException)
            {
                return null; // not valid UTF-8 (found by fuzzing the 207 reader): the answer stays readable without it
            }
        }
    }
}
