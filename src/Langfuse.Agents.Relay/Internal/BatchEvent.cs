namespace Langfuse.Agents.Relay.Internal;

/// <summary>One event of a batch: where its bytes are in the body, its envelope id (or empty), and why Langfuse would refuse it (null: valid).</summary>
internal readonly record struct BatchEvent(Range Bytes, string Id, string? Error);
