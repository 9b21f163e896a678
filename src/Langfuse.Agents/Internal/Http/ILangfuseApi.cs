namespace Langfuse.Agents.Internal.Http;

/// <summary>
/// The Langfuse endpoints this SDK calls, in the shape Refit would give them (Refit is not in this registry,
/// so <see cref="LangfuseApiClient"/> implements it by hand over a named <see cref="HttpClient"/>).
/// Implementations never interpret status codes: the caller decides what is retryable.
/// </summary>
internal interface ILangfuseApi
{
    /// <summary>
    /// <c>POST /api/public/otel/v1/traces</c> with an OTLP <c>ExportTraceServiceRequest</c>: protobuf unless
    /// <paramref name="contentType"/> says otherwise (a relay forwards what its clients sent, JSON or gzip included).
    /// </summary>
    Task<ApiResponse> PostOtlpTracesAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken, string? contentType = null, string? contentEncoding = null);

    /// <summary><c>POST /api/public/ingestion</c> with a batch JSON body (optionally gzip-encoded).</summary>
    Task<ApiResponse> PostIngestionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken, string? contentEncoding = null);

    /// <summary><c>GET /api/public/health</c>.</summary>
    Task<ApiResponse> GetHealthAsync(CancellationToken cancellationToken);
}
