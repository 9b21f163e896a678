namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary><c>/relay/status</c>: what was accepted, forwarded, held, refused, dropped and dead-lettered, and how the upstream answers.</summary>
internal sealed record StatusBody(
    StatusAccepted Accepted,
    StatusForwarded Forwarded,
    StatusBacklog Backlog,
    IReadOnlyDictionary<string, long> Rejections,
    IReadOnlyDictionary<string, long> Dropped,
    StatusDeadLetter DeadLetter,
    StatusIngress Ingress,
    StatusUpstream Upstream,
    string? BufferDirectory);
