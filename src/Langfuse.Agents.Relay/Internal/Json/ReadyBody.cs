namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary><c>/relay/ready</c>: <c>{"status":"OK"}</c>, or <c>{"status":"NOT_READY","reason":...}</c> with 503.</summary>
internal sealed record ReadyBody(string Status, string? Reason);
