namespace Langfuse.Agents.Relay.Internal;

/// <summary>The relay cannot start (its buffer directory is unusable or held by another relay); the message says why.</summary>
internal sealed class RelayStartException(string message) : Exception(message);
