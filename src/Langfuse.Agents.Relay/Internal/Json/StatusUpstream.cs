namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>How the upstream Langfuse answers (its URL without credentials).</summary>
internal sealed record StatusUpstream(
    string Url,
    string State,
    string? LastSuccess,
    string? LastFailure,
    int? LastStatus,
    string? LastError,
    double PausedForSeconds,
    int InFlight);
