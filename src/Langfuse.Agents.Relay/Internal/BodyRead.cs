namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// A body read (or inflated) into memory: <see cref="Body"/> when <see cref="Status"/> is <see cref="BodyStatus.Ok"/>,
/// held (and counted against the ingress memory budget) until <see cref="Dispose"/>.
/// </summary>
internal readonly record struct BodyRead(BodyStatus Status, ReadOnlyMemory<byte> Body, IDisposable? Lease) : IDisposable
{
    public void Dispose() => Lease?.Dispose();
}
