using System.Text.Json;
using System.Text.Json.Serialization;

namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>
/// Every body the relay writes, serialized by source-generated code (no reflection, trim- and AOT-safe): camelCase as
/// Langfuse writes, absent rather than null for optional fields (a status without credentials has no paths).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MessageBody))]
[JsonSerializable(typeof(InvalidRequestBody))]
[JsonSerializable(typeof(EmptyBody))]
[JsonSerializable(typeof(IngestionResult))]
[JsonSerializable(typeof(HealthBody))]
[JsonSerializable(typeof(ReadyBody))]
[JsonSerializable(typeof(StatusBody))]
internal sealed partial class RelayJsonContext : JsonSerializerContext;
