using System.Globalization;
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
    IngressBodies bodies,
    RelayMetrics metrics,
    TimeProvider timeProvider,
    ILogger logger)
{
    public const string OtlpPath = "/api/public/otel/v1/traces";
    public const string IngestionPath = "/api/public/ingestion";
    public const string HealthPath = "/api/public/health";
    public const string StatusPath = "/relay/status";

    private const string InvalidCredentials = "Invalid credentials. Confirm that you've configured the correct host.";
    private const string IngestionTooLarge = "Body exceeded 4.5mb limit";

    public async Task OtlpAsync(HttpContext context)
    {
        var request = context.Request;
        if (!credentials.Verify(request.Headers.Authorization.ToString()))
        {
            await RejectAsync(context, RelayRejection.Unauthorized, 401, InvalidCredentials);
            return;
        }

        var contentType = ContentHeaders.OtlpContentType(request.Headers.ContentType);
        if (!contentType.Accepted)
        {
            await RejectAsync(context, RelayRejection.UnsupportedMediaType, contentType.Status, contentType.Error!);
            return;
        }

        var encoding = ContentHeaders.ContentEncoding(request.Headers.ContentEncoding);
        if (!encoding.Accepted)
        {
            await RejectAsync(context, RelayRejection.UnsupportedMediaType, encoding.Status, encoding.Error!);
            return;
        }

        using var received = await bodies.ReadAsync(context, options.MaxOtlpBodyBytes);
        if (received.Status != BodyStatus.Ok)
        {
            await RefuseBodyAsync(context, received.Status, static (endpoints, c) => endpoints.RejectAsync(c, RelayRejection.TooLarge, 413, "Request body too large"));
            return;
        }

        using var inflated = encoding.Value is null ? default : await bodies.InflateAsync(received.Body, options.MaxOtlpBodyBytes, context.RequestAborted);
        if (encoding.Value is not null && inflated.Status != BodyStatus.Ok)
        {
            await RefuseBodyAsync(context, inflated.Status, static (endpoints, c) => endpoints.RejectAsync(c, RelayRejection.TooLarge, 413, "Request body too large (inflated)"));
            return;
        }

        var decoded = encoding.Value is null ? received.Body : inflated.Body;
        var error = contentType.Value == ContentHeaders.Protobuf
            ? OtlpRequestValidator.ValidateProtobuf(decoded.Span, out var spans)
            : OtlpRequestValidator.ValidateJson(decoded, out spans);
        if (error is not null)
        {
            await RejectAsync(context, RelayRejection.Malformed, 400, "Invalid OTLP request: " + error);
            return;
        }

        if (spans > 0)
        {
            // Stored as received (compressed bodies stay compressed), with the normalised headers the forwarder sends.
            var record = new DurableRecord(PayloadKind.OtlpTraces, spans, timeProvider.GetUtcNow(), received.Body, contentType.Value, encoding.Value);
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
            await RejectTextAsync(context, RelayRejection.TooLarge, 413, IngestionTooLarge);
            return;
        }

        if (!credentials.Verify(request.Headers.Authorization.ToString()))
        {
            await RejectAsync(context, RelayRejection.Unauthorized, 401, InvalidCredentials);
            return;
        }

        var encoding = ContentHeaders.ContentEncoding(request.Headers.ContentEncoding);
        if (!encoding.Accepted)
        {
            await RejectAsync(context, RelayRejection.UnsupportedMediaType, encoding.Status, encoding.Error!);
            return;
        }

        using var received = await bodies.ReadAsync(context, RelayOptions.MaxIngestionBodyBytes);
        if (received.Status != BodyStatus.Ok)
        {
            await RefuseBodyAsync(context, received.Status, static (endpoints, c) => endpoints.RejectTextAsync(c, RelayRejection.TooLarge, 413, IngestionTooLarge));
            return;
        }

        // Langfuse's limit is on the body it parses, so a compressed body is limited by what it inflates to.
        using var inflated = encoding.Value is null ? default : await bodies.InflateAsync(received.Body, RelayOptions.MaxIngestionBodyBytes, context.RequestAborted);
        if (encoding.Value is not null && inflated.Status != BodyStatus.Ok)
        {
            await RefuseBodyAsync(context, inflated.Status, static (endpoints, c) => endpoints.RejectTextAsync(c, RelayRejection.TooLarge, 413, IngestionTooLarge));
            return;
        }

        if (!ContentHeaders.IsJson(request.Headers.ContentType))
        {
            await InvalidRequestAsync(context, "Content-Type must be application/json");
            return;
        }

        var batch = IngestionBatchReader.Read(encoding.Value is null ? received.Body : inflated.Body, out var envelopeError);
        if (batch is null)
        {
            await InvalidRequestAsync(context, envelopeError!);
            return;
        }

        var valid = batch.Events.Where(static e => e.Error is null).ToList();
        var errors = batch.Events.Count - valid.Count;
        if (errors > 0)
        {
            metrics.Rejected(RelayRejection.InvalidEvents, errors);
        }

        if (valid.Count > 0)
        {
            // Inflated, and made of the valid events' own bytes: never re-encoded, never larger than what was sent.
            var record = new DurableRecord(PayloadKind.IngestionBatch, valid.Count, timeProvider.GetUtcNow(), batch.Compose(valid));
            if (!await StoreAsync(context, record, "ingestion"))
            {
                return;
            }
        }

        await WriteJsonAsync(context, 207, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("successes");
            foreach (var item in valid)
            {
                w.WriteStartObject();
                w.WriteString("id", item.Id);
                w.WriteNumber("status", 201);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("errors");
            foreach (var item in batch.Events)
            {
                if (item.Error is null)
                {
                    continue;
                }

                w.WriteStartObject();
                w.WriteString("id", item.Id);
                w.WriteNumber("status", 400);
                w.WriteString("message", "Invalid request data");
                w.WriteString("error", item.Error);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>Answers a body that could not be read whole: too large (as the endpoint words it), too slow, over budget, not gzip.</summary>
    private async Task RefuseBodyAsync(HttpContext context, BodyStatus status, Func<RelayEndpoints, HttpContext, Task> tooLarge)
    {
        switch (status)
        {
            case BodyStatus.TooLarge:
                await tooLarge(this, context);
                break;
            case BodyStatus.TimedOut:
                metrics.Rejected(RelayRejection.BodyTimeout);
                context.Response.Headers.Connection = "close"; // what is left of the body is never read
                await WriteMessageAsync(context, 408, "The request body was not received within the relay's body time limit");
                break;
            case BodyStatus.OverBudget:
                metrics.Rejected(RelayRejection.Busy);
                context.Response.Headers.RetryAfter = RetryAfterSeconds();
                await WriteMessageAsync(context, 503, "The relay is holding as many request bodies as it allows; retry later");
                break;
            case BodyStatus.Invalid:
                await RejectAsync(context, RelayRejection.Malformed, 400, "Body is not valid gzip");
                break;
            default:
                context.Abort(); // the client went away (or stalled below Kestrel's minimum data rate): no answer
                break;
        }
    }

    public static Task HealthAsync(HttpContext context) => WriteJsonAsync(context, 200, static w =>
    {
        w.WriteStartObject();
        w.WriteString("status", "OK");
        w.WriteString("version", "langfuse-agents-relay " + LangfuseTracer.SdkVersion);
        w.WriteEndObject();
    });

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

        context.Response.Headers.RetryAfter = RetryAfterSeconds();
        await WriteMessageAsync(context, 503, "The relay cannot store this request now (buffer full or disk unavailable); retry later");
        return false;
    }

    private string RetryAfterSeconds() => ((int)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

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
