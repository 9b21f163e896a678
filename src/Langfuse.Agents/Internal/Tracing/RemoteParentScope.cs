namespace Langfuse.Agents.Internal.Tracing;

/// <summary>Restores the previous remote parent of the async flow when disposed (once).</summary>
internal sealed class RemoteParentScope(LangfuseTraceContext previous) : IDisposable
{
    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            ObservationContext.RemoteParent = previous;
        }
    }
}
