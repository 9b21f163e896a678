namespace Langfuse.Agents.Testing.Internal;

/// <summary>A per-event failure planned with <see cref="FakeLangfuseServer.FailEvent"/>.</summary>
internal sealed class EventFailureRule(Func<ReceivedEvent, bool> predicate, int status, string message, int? times)
{
    public Func<ReceivedEvent, bool> Predicate { get; } = predicate;

    public int Status { get; } = status;

    public string Message { get; } = message;

    /// <summary>Uses left; null for unlimited. Guarded by the server's lock.</summary>
    public int? Remaining { get; set; } = times;
}
