namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>The dead-letter file (its path only for callers with the client keys).</summary>
internal sealed record StatusDeadLetter(
    string? Path,
    long Entries,
    long Items,
    long Rotations,
    long DiscardedEntries,
    long BodiesOmitted,
    long WriteFailures,
    long MaxBytes);
