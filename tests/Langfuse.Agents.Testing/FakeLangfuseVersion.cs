namespace Langfuse.Agents.Testing;

/// <summary>Which generation of Langfuse server the fake imitates.</summary>
public enum FakeLangfuseVersion
{
    /// <summary>Old self-hosted server: no OTLP endpoint (404), the batch endpoint accepts every event type.</summary>
    V2,

    /// <summary>Self-hosted v3: OTLP accepted, the batch endpoint accepts every event type.</summary>
    V3,

    /// <summary>Current Langfuse (default): OTLP for traces, the batch endpoint accepts only <c>score-create</c> and <c>sdk-log</c>.</summary>
    V4,
}
