namespace Langfuse.Agents.Internal.Http;

/// <summary>
/// The Langfuse endpoints this SDK calls, in the shape Refit would give them (Refit is not in this registry,
/// so <see cref="LangfuseApiClient"/> implements it by hand over a named <see cref="HttpClient"/>).
/// Implementations never interpret status codes: the caller decides what is retryable.
/// </summary>
internal interface ILangfuseApi
{
    /// <summary><c>POST /api/public/otel/v1/traces</c> with an OTLP <c>ExportTraceServiceRequest</c> in protobuf.</summary>
    Task<ApiResponse> PostOtlpTracesAsync(ReadOnlyMemory<byte> protobuf, CancellationToken cancellationToken);

    /// <summary><c>POST /api/public/ingestion</c> with a batch JSON body.</summary>
    Task<ApiResponse> PostIngestionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken);

    /// <summary><c>GET /api/public/health</c>.</summary>
    Task<ApiResponse> GetHealthAsync(CancellationToken cancellationToken);
}
