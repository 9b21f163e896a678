namespace Langfuse.Agents;

/// <summary>
/// Well-known names of boolean quality signals, recorded as Langfuse <c>BOOLEAN</c> scores by
/// <see cref="LangfuseQualityExtensions.RecordQuality"/>. Any other snake_case name works too.
/// </summary>
public static class QualitySignals
{
    /// <summary>The output matched its expected schema (<c>schema_valid</c>).</summary>
    public const string SchemaValid = "schema_valid";

    /// <summary>The tool call did what it was asked (<c>tool_succeeded</c>).</summary>
    public const string ToolSucceeded = "tool_succeeded";

    /// <summary>The step finished within its latency budget (<c>latency_within_threshold</c>).</summary>
    public const string LatencyWithinThreshold = "latency_within_threshold";
}
