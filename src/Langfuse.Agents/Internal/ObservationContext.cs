namespace Langfuse.Agents.Internal;

/// <summary>The async-local "current observation": it flows into awaited calls and into tasks started inside it.</summary>
internal static class ObservationContext
{
    private static readonly AsyncLocal<LangfuseObservation?> CurrentSlot = new();

    public static LangfuseObservation? Current
    {
        get => CurrentSlot.Value;
        set => CurrentSlot.Value = value;
    }

    private static readonly AsyncLocal<LangfuseTraceContext> RemoteParentSlot = new();

    /// <summary>A caller's trace context (from another process) that root observations of this flow continue.</summary>
    public static LangfuseTraceContext RemoteParent
    {
        get => RemoteParentSlot.Value;
        set => RemoteParentSlot.Value = value;
    }
}
