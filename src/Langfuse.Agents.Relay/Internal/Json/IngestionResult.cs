namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>The batch endpoint's 207: one entry per event, successes first, as Langfuse answers.</summary>
internal sealed record IngestionResult(IReadOnlyList<IngestionSuccess> Successes, IReadOnlyList<IngestionError> Errors);
