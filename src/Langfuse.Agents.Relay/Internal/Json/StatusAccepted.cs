namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>What the relay acknowledged (on disk).</summary>
internal sealed record StatusAccepted(long Requests, long Items, long PersistedBytes, long GroupCommits, double RequestsPerCommit);
