using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using Langfuse.Agents.Internal.Export;

namespace Langfuse.Agents.Internal.Http;

/// <summary>
/// <see cref="ILangfuseApi"/> over an <see cref="HttpClient"/> (from <c>IHttpClientFactory</c> under DI, or owned by
/// the tracer without it). Adds Basic auth and Langfuse's SDK headers to every request.
/// </summary>
internal sealed class LangfuseApiClient : ILangfuseApi
{
    public const string HttpClientName = "Langfuse.Agents";
    public const string SdkName = "langfuse-agents-dotnet";
    private const int MaxBodyBytes = 64 * 1024;

    private static readonly MediaTypeHeaderValue ProtobufContentType = new("application/x-protobuf");
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _httpClient;
    private readonly Uri _otlpUri;
    private readonly Uri _ingestionUri;
    private readonly Uri _healthUri;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly string _publicKey;
    private readonly TimeProvider _timeProvider;

    public LangfuseApiClient(HttpClient httpClient, Uri baseUrl, string publicKey, string secretKey, TimeProvider timeProvider)
    {
        _httpClient = httpClient;
        _timeProvider = timeProvider;
        var root = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        _otlpUri = new Uri(root, "api/public/otel/v1/traces");
        _ingestionUri = new Uri(root, "api/public/ingestion");
        _healthUri = new Uri(root, "api/public/health");
        _publicKey = publicKey;
        _authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{publicKey}:{secretKey}")));
    }

    public Task<ApiResponse> PostOtlpTracesAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken, string? contentType = null, string? contentEncoding = null)
    {
        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = contentType is null ? ProtobufContentType : MediaTypeHeaderValue.Parse(contentType);
        if (contentEncoding is not null)
        {
            content.Headers.ContentEncoding.Add(contentEncoding);
        }

        var request = CreateRequest(HttpMethod.Post, _otlpUri, content);
        request.Headers.TryAddWithoutValidation("x-langfuse-ingestion-version", "4");
        return SendAsync(request, cancellationToken);
    }

    public Task<ApiResponse> PostIngestionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken, string? contentEncoding = null)
    {
        var content = new ReadOnlyMemoryContent(json);
        content.Headers.ContentType = JsonContentType;
        if (contentEncoding is not null)
        {
            content.Headers.ContentEncoding.Add(contentEncoding);
        }

        // The 207 lists every event: its size follows the batch's, so its limit does too.
        var answerLimit = contentEncoding is null ? IngestionResponse.MaxBodyBytesFor(json.Length) : IngestionResponse.MaxBodyBytes; // compressed: the batch is larger than its bytes
        return SendAsync(CreateRequest(HttpMethod.Post, _ingestionUri, content), cancellationToken, answerLimit);
    }

    public Task<ApiResponse> GetHealthAsync(CancellationToken cancellationToken) =>
        SendAsync(CreateRequest(HttpMethod.Get, _healthUri, null), cancellationToken);

    private HttpRequestMessage CreateRequest(HttpMethod method, Uri uri, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, uri) { Content = content, Version = System.Net.HttpVersion.Version11 };
        request.Headers.Authorization = _authorization;
        request.Headers.TryAddWithoutValidation("x-langfuse-sdk-name", SdkName);
        request.Headers.TryAddWithoutValidation("x-langfuse-sdk-version", LangfuseTracer.SdkVersion);
        request.Headers.TryAddWithoutValidation("x-langfuse-public-key", _publicKey);
        return request;
    }

    private async Task<ApiResponse> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken, long? multiStatusBytes = null)
    {
        using (request)
        {
            using var response = await _httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var retryAfter = RetryPolicy.ParseRetryAfter(response.Headers.RetryAfter, _timeProvider.GetUtcNow());
            if ((int)response.StatusCode == 207 && multiStatusBytes is { } limit)
            {
                // Parsed as it streams in: a 207 is never cut short and then guessed at (see IngestionResponse).
                var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    return new ApiResponse(207, retryAfter, null, await IngestionResponse.ReadAsync(stream, limit, cancellationToken).ConfigureAwait(false));
                }
            }

            var body = await ReadCappedAsync(response.Content, cancellationToken).ConfigureAwait(false);
            return new ApiResponse((int)response.StatusCode, retryAfter, body);
        }
    }

    /// <summary>
    /// Reads at most <see cref="MaxBodyBytes"/> of the body (error messages; a 207 is read by <see cref="IngestionResponse"/>) through a small pooled buffer: most answers are
    /// <c>{}</c>, and a fresh large buffer per response would land on the large object heap every request.
    /// </summary>
    private static async Task<string?> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength == 0)
        {
            return null;
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                var total = 0;
                int read;
                while (total < MaxBodyBytes && (read = await stream.ReadAsync(buffer.AsMemory(total, Math.Min(buffer.Length, MaxBodyBytes) - total), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                    if (total == buffer.Length && total < MaxBodyBytes)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxBodyBytes));
                        buffer.AsSpan(0, total).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                }

                return total == 0 ? null : Encoding.UTF8.GetString(buffer, 0, total);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
