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
}
