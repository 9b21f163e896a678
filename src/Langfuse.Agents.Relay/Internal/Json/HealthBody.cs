namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>Langfuse's health answer: <c>{"status":"OK","version":...}</c>.</summary>
internal sealed record HealthBody(string Status, string Version);
