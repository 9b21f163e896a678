using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using Langfuse.Agents.Internal.Durable;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// The relay's HTTP surface, answering as Langfuse does: <c>200 {}</c> for OTLP, <c>207</c> with per-event results for
/// batches, the same error shapes. A request is acknowledged only once its record is on disk (group commit); if the
/// disk cannot take it the answer is 503 with <c>Retry-After</c>, so the client keeps it.
/// </summary>
internal sealed class RelayEndpoints(
    RelayOptions options,
    ClientCredentials credentials,
    GroupCommitWriter writer,
    RelayMetrics metrics,
    TimeProvider timeProvider,
    ILogger logger)
{
    public const string OtlpPath = "/api/public/otel/v1/traces";
    public const string IngestionPath = "/api/public/ingestion";
    public const string HealthPath = "/api/public/health";
    public const string StatusPath = "/relay/status";

    /// <summary>What a gzip body may inflate to: protects against compression bombs.</summary>
    private const long MaxDecodedBytes = 64L * 1024 * 1024;

    private const string InvalidCredentials = "Invalid credentials. Confirm that you've configured the correct host.";

    public async Task OtlpAsync(HttpContext context)
    {
        var request = context.Request;
        if (!credentials.Verify(request.Headers.Authorization.ToString()))
        {
            await RejectAsync(context, RelayRejection.Unauthorized, 401, InvalidCredentials);
            return;
        }

        var contentType = request.ContentType ?? string.Empty;
        var isProtobuf = contentType.Contains("application/x-protobuf", StringComparison.OrdinalIgnoreCase);
        if (!isProtobuf && !contentType.Contains("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await RejectAsync(context, RelayRejection.UnsupportedMediaType, 400, $"Unsupported content type '{contentType}'; use application/x-protobuf or application/json");
            return;
        }

        if (request.ContentLength > options.MaxOtlpBodyBytes)
        {
            await RejectAsync(context, RelayRejection.TooLarge, 413, "Request body too large");
            return;
        }

        var body = await ReadBodyAsync(context, options.MaxOtlpBodyBytes);
        if (body is null)
        {
            if (!context.RequestAborted.IsCancellationRequested)
            {
                await RejectAsync(context, RelayRejection.TooLarge, 413, "Request body too large");
            }

            return;
        }

        var encoding = ContentEncoding(request);
        var decoded = Decode(body, encoding, out var decodeError);
        if (decoded is null)
        {
            await RejectAsync(context, decodeError == "too large" ? RelayRejection.TooLarge : RelayRejection.Malformed, decodeError == "too large" ? 413 : 400, decodeError!);
            return;
        }

        var error = isProtobuf
            ? OtlpRequestValidator.ValidateProtobuf(decoded, out var spans)
            : OtlpRequestValidator.ValidateJson(decoded, out spans);
        if (error is not null)
        {
            await RejectAsync(context, RelayRejection.Malformed, 400, "Invalid OTLP request: " + error);
            return;
        }

        if (spans > 0)
        {
            var record = new DurableRecord(PayloadKind.OtlpTraces, spans, timeProvider.GetUtcNow(), body, contentType, encoding);
            if (!await StoreAsync(context, record, "otlp"))
            {
                return;
            }
        }

        await WriteJsonAsync(context, 200, static w =>
        {
            w.WriteStartObject();
            w.WriteEndObject();
        });
    }

    public async Task IngestionAsync(HttpContext context)
    {
        var request = context.Request;

        // Langfuse (Next.js) limits the body before its auth runs; a declared length is refused before reading.
        if (request.ContentLength > RelayOptions.MaxIngestionBodyBytes)
        {
            await RejectTextAsync(context, RelayRejection.TooLarge, 413, "Body exceeded 4.5mb limit");
            return;
        }

        if (!credentials.Verify(request.Headers.Authorization.ToString()))
        {
            await RejectAsync(context, RelayRejection.Unauthorized, 401, InvalidCredentials);
            return;
        }

        var body = await ReadBodyAsync(context, RelayOptions.MaxIngestionBodyBytes);
        if (body is null)
        {
            if (!context.RequestAborted.IsCancellationRequested)
            {
                await RejectTextAsync(context, RelayRejection.TooLarge, 413, "Body exceeded 4.5mb limit");
            }

            return;
        }

        var decoded = Decode(body, ContentEncoding(request), out var decodeError);
        if (decoded is null)
        {
            await RejectAsync(context, RelayRejection.Malformed, 400, decodeError!);
            return;
        }

        if (!(request.ContentType ?? string.Empty).Contains("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await InvalidRequestAsync(context, "Content-Type must be application/json");
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(decoded);
        }
        catch (JsonException ex)
        {
            await InvalidRequestAsync(context, "Body is not valid JSON: " + ex.Message);
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("batch", out var batch) || batch.ValueKind != JsonValueKind.Array)
            {
                await InvalidRequestAsync(context, "Body must be {\"batch\": [...], \"metadata\": {...}}");
                return;
            }

            var valid = new List<(JsonElement Event, string Id)>();
            var errors = new List<(string Id, string Error)>();
            foreach (var item in batch.EnumerateArray())
            {
                if (IngestionEventValidator.Validate(item, out var id, out _) is { } error)
                {
                    errors.Add((id, error));
                }
                else
                {
                    valid.Add((item, id));
                }
            }

            if (errors.Count > 0)
            {
                metrics.Rejected(RelayRejection.InvalidEvents, errors.Count);
            }

            if (valid.Count > 0)
            {
                var metadata = root.TryGetProperty("metadata", out var m) ? m : (JsonElement?)null;
                var stored = errors.Count == 0 && decoded == body ? body : WriteBatch(valid, metadata);
                var record = new DurableRecord(PayloadKind.IngestionBatch, valid.Count, timeProvider.GetUtcNow(), stored);
                if (!await StoreAsync(context, record, "ingestion"))
                {
                    return;
                }
            }

            await WriteJsonAsync(context, 207, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("successes");
                foreach (var (_, id) in valid)
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteNumber("status", 201);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("errors");
                foreach (var (id, error) in errors)
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteNumber("status", 400);
                    w.WriteString("message", "Invalid request data");
                    w.WriteString("error", error);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
        }
    }

    public static Task HealthAsync(HttpContext context) => WriteJsonAsync(context, 200, static w =>
    {
        w.WriteStartObject();
        w.WriteString("status", "OK");
        w.WriteString("version", "langfuse-agents-relay " + LangfuseTracer.SdkVersion);
        w.WriteEndObject();
    });

    /// <summary>The new batch body: only the valid events, each exactly as sent (same envelope ids and timestamps).</summary>
    private static byte[] WriteBatch(List<(JsonElement Event, string Id)> events, JsonElement? metadata)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("batch");
            foreach (var (item, _) in events)
            {
                item.WriteTo(w);
            }

            w.WriteEndArray();
            if (metadata is { } meta)
            {
                w.WritePropertyName("metadata");
                meta.WriteTo(w);
            }

            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private async Task<bool> StoreAsync(HttpContext context, DurableRecord record, string endpoint)
    {
        var outcome = await writer.AppendAsync(record);
        if (outcome == AppendOutcome.Stored)
        {
            metrics.Accepted(endpoint, record.ItemCount, record.Payload.Length);
            return true;
        }

        var count = metrics.Rejected(RelayRejection.BufferUnavailable);
        if (count == 1 || count % 1000 == 0)
        {
            RelayLog.BufferRefused(logger, outcome.ToString(), count);
        }

        context.Response.Headers.RetryAfter = ((int)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await WriteMessageAsync(context, 503, "The relay cannot store this request now (buffer full or disk unavailable); retry later");
        return false;
    }

    private static string? ContentEncoding(HttpRequest request)
    {
        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        return encoding.Length == 0 || encoding.Equals("identity", StringComparison.OrdinalIgnoreCase) ? null : encoding.ToLowerInvariant();
    }

    private static byte[]? Decode(byte[] body, string? encoding, out string? error)
    {
        error = null;
        if (encoding is null)
        {
            return body;
        }

        if (encoding != "gzip")
        {
            error = $"Unsupported Content-Encoding '{encoding}'";
            return null;
        }

        try
        {
            using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
            using var decoded = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = gzip.Read(chunk)) > 0)
            {
                if (decoded.Length + read > MaxDecodedBytes)
                {
                    error = "too large";
                    return null;
                }

                decoded.Write(chunk, 0, read);
            }

            return decoded.ToArray();
        }
        catch (InvalidDataException)
        {
            error = "Body is not valid gzip";
            return null;
        }
    }

    /// <summary>The body, or null when it is larger than <paramref name="limit"/> or the client went away.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, long limit)
    {
        var declared = context.Request.ContentLength;
        using var buffer = declared is > 0 and <= int.MaxValue ? new MemoryStream((int)declared.Value) : new MemoryStream();
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(65536);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            context.Abort(); // a client that went away (or stalled below Kestrel's minimum data rate) gets no answer
            return null;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }

    private Task RejectAsync(HttpContext context, RelayRejection reason, int status, string message)
    {
        metrics.Rejected(reason);
        return WriteMessageAsync(context, status, message);
    }

    private async Task RejectTextAsync(HttpContext context, RelayRejection reason, int status, string text)
    {
        metrics.Rejected(reason);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text, context.RequestAborted);
    }

    private Task InvalidRequestAsync(HttpContext context, string error)
    {
        metrics.Rejected(RelayRejection.Malformed);
        return WriteJsonAsync(context, 400, w =>
        {
            w.WriteStartObject();
            w.WriteString("message", "Invalid request data");
            w.WriteString("error", error);
            w.WriteEndObject();
        });
    }

    private static Task WriteMessageAsync(HttpContext context, int status, string message) => WriteJsonAsync(context, status, w =>
    {
        w.WriteStartObject();
        w.WriteString("message", message);
        w.WriteEndObject();
    });

    public static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            write(w);
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = buffer.WrittenCount;
        try
        {
            await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client went away; what was stored stays stored (it will be deduplicated if sent again).
        }
    }
}
