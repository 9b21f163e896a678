namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>An event stored: <c>{"id":...,"status":201}</c>.</summary>
internal sealed record IngestionSuccess(string Id, int Status);
