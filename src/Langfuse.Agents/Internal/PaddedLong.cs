using System.Runtime.InteropServices;

namespace Langfuse.Agents.Internal;

/// <summary>
/// A counter alone on its cache line (128 bytes covers adjacent-line prefetch), so a producer's and the
/// background reader's interlocked updates to different counters do not invalidate each other's caches.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedLong
{
    [FieldOffset(64)]
    public long Value;
}
