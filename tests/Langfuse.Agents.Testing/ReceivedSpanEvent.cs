namespace Langfuse.Agents.Testing;

/// <summary>An event recorded on a <see cref="ReceivedSpan"/>.</summary>
/// <param name="Name">Event name.</param>
/// <param name="TimeUnixNano">Event time in nanoseconds since the Unix epoch.</param>
/// <param name="Attributes">Event attributes (same value shapes as <see cref="ReceivedSpan.Attributes"/>).</param>
public sealed record ReceivedSpanEvent(string Name, ulong TimeUnixNano, IReadOnlyDictionary<string, object?> Attributes);
