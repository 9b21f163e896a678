namespace Langfuse.Agents.Internal.Durable;

/// <summary>What a record's payload is, and so which endpoint it is replayed to.</summary>
internal enum PayloadKind : byte
{
    /// <summary>An OTLP <c>ExportTraceServiceRequest</c> for <c>/api/public/otel/v1/traces</c>.</summary>
    OtlpTraces = 1,

    /// <summary>A batch JSON body for <c>/api/public/ingestion</c>.</summary>
    IngestionBatch = 2,
}

/// <summary>
/// One request body kept on disk until it is delivered: exactly the bytes that were (or would have been) sent, so a
/// resend carries the same span ids, envelope ids and timestamps and Langfuse deduplicates it.
/// </summary>
/// <param name="Kind">Which endpoint it goes to.</param>
/// <param name="ItemCount">How many items (observations, scores) it carries, for exact accounting.</param>
/// <param name="CreatedAt">When it was first written; retention is measured from here.</param>
/// <param name="Payload">The request body.</param>
/// <param name="ContentType">The body's content type when it is not the kind's default (the relay keeps what clients sent).</param>
/// <param name="ContentEncoding">The body's content encoding (for example <c>gzip</c>), or null.</param>
internal sealed record DurableRecord(
    PayloadKind Kind,
    int ItemCount,
    DateTimeOffset CreatedAt,
    ReadOnlyMemory<byte> Payload,
    string? ContentType = null,
    string? ContentEncoding = null);
