namespace Langfuse.Agents.Relay.Internal;

/// <summary>Who may call an endpoint guarded by <see cref="ClientAuthFilter"/>.</summary>
internal enum ClientAccess
{
    /// <summary>Only callers with the client keys (the ingestion endpoints).</summary>
    Required,

    /// <summary>Anyone on loopback (without paths), only callers with the keys once the relay listens beyond it.</summary>
    RequiredBeyondLoopback,
}
