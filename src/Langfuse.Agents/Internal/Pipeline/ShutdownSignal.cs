namespace Langfuse.Agents.Internal.Pipeline;

/// <summary>
/// Set when shutdown begins. The sender then stops retrying network failures: a host that refuses connections
/// now will not answer within a shutdown budget of seconds, and retrying would only make the application's exit
/// wait out the backoff.
/// </summary>
internal sealed class ShutdownSignal
{
    private volatile bool _isSet;

    public bool IsSet => _isSet;

    public void Set() => _isSet = true;
}
