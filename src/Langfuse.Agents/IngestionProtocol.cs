namespace Langfuse.Agents;

/// <summary>How observations travel to Langfuse.</summary>
public enum IngestionProtocol
{
    /// <summary>
    /// OTLP/HTTP protobuf on <c>/api/public/otel/v1/traces</c>: the only path for traces on Langfuse v4
    /// (Cloud). Falls back to <see cref="Legacy"/> by itself, with one log line, when that endpoint answers 404.
    /// </summary>
    Otlp,

    /// <summary>Batch events (<c>trace-create</c>, <c>span-create</c>, ...) on <c>/api/public/ingestion</c>, for v2/v3 self-hosted servers.</summary>
    Legacy,
}
