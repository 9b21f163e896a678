namespace Langfuse.Agents.Internal.Export;

/// <summary>The token counts <c>SetUsage</c> knows by meaning.</summary>
internal enum UsageKind
{
    Input,
    Output,
    Total,
    CachedInput,
    CacheCreationInput,
    Reasoning,
}
