namespace Langfuse.Agents.Relay.Internal;

/// <summary>What the relay knows of the upstream, for <c>/relay/status</c>.</summary>
/// <param name="State"><c>ok</c>, <c>failing</c>, <c>unreachable</c>, <c>paused</c> or <c>unknown</c> (nothing sent yet).</param>
/// <param name="LastSuccess">When Langfuse last accepted a request.</param>
/// <param name="LastFailure">When a request last failed in a way time may fix.</param>
/// <param name="LastStatus">The last HTTP status, or null after a network failure.</param>
/// <param name="LastError">The last failure, as a status or an exception type (never a message: it may carry a URL).</param>
/// <param name="PausedFor">How long sending stays paused after a 401/403.</param>
/// <param name="InFlight">Upstream requests in flight now.</param>
internal readonly record struct RelayUpstreamStatus(string State, DateTimeOffset? LastSuccess, DateTimeOffset? LastFailure, int? LastStatus, string? LastError, TimeSpan PausedFor, int InFlight);
