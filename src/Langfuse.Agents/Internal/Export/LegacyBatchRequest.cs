namespace Langfuse.Agents.Internal.Export;

/// <summary>One <c>POST /api/public/ingestion</c> body and the events in it, in order.</summary>
internal sealed class LegacyBatchRequest
{
    public LegacyBatchRequest(ReadOnlyMemory<byte> body, IReadOnlyList<LegacyBatchEvent> events)
    {
        Body = body;
        Events = events;
    }

    /// <summary>The UTF-8 JSON body; owned by this request (safe to keep for retries).</summary>
    public ReadOnlyMemory<byte> Body { get; }

    public IReadOnlyList<LegacyBatchEvent> Events { get; }
}
