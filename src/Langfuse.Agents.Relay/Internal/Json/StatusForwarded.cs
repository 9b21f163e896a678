namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>What reached the upstream.</summary>
internal sealed record StatusForwarded(long Items, long Requests, long Retries);
