using System.Text.Json.Serialization;

namespace Langfuse.Agents.Internal.Export;

/// <summary>An accepted event.</summary>
internal sealed class IngestionSuccess
{
    /// <summary>The event's envelope id.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("status")]
    public int Status { get; set; }
}
