namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>An event refused on its merits: <c>{"id":...,"status":400,"message":"Invalid request data","error":...}</c>.</summary>
internal sealed record IngestionError(string Id, int Status, string Message, string Error);
