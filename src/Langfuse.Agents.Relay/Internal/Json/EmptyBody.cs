namespace Langfuse.Agents.Relay.Internal.Json;

/// <summary>The OTLP endpoint's <c>200 {}</c>.</summary>
internal sealed record EmptyBody
{
    public static readonly EmptyBody Instance = new();
}
