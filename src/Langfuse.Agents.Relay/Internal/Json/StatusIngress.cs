namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>Request bodies held in memory now, against their budget; requests waiting for the group commit, against its bound.</summary>
internal sealed record StatusIngress(long BodyBytesInFlight, long BodyBytesBudget, int PendingRequests, int PendingRequestsLimit);
