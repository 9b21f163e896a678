namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>Langfuse's error shape: <c>{"message": ...}</c>.</summary>
internal sealed record MessageBody(string Message);
