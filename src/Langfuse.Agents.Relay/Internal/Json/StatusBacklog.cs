namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>What is on disk, not yet forwarded.</summary>
internal sealed record StatusBacklog(long Segments, long Records, long Items, long Bytes, double OldestAgeSeconds);
