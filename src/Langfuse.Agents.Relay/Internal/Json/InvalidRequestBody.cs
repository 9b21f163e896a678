namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>Langfuse's 400 for a batch it cannot read: <c>{"message":"Invalid request data","error":...}</c>.</summary>
internal sealed record InvalidRequestBody(string Message, string Error);
