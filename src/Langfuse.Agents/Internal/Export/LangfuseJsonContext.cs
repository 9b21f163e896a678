using System.Text.Json.Serialization;

namespace Langfuse.Agents.Internal.Export;

/// <summary>Source-generated (reflection-free, trimming-safe) JSON metadata for what the SDK reads from Langfuse.</summary>
[JsonSourceGenerationOptions(
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(IngestionResponse))]
internal sealed partial class LangfuseJsonContext : JsonSerializerContext
{
}
