using System.Globalization;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Relay.Internal.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// The relay's HTTP surface, answering as Langfuse does: <c>200 {}</c> for OTLP, <c>207</c> with per-event results for
/// batches, the same error shapes, as typed results with source-generated JSON. Credentials are checked before these
/// handlers run (<see cref="ClientAuthFilter"/>). A request is acknowledged only once its record is on disk (group
/// commit); if the disk cannot take it the answer is 503 with <c>Retry-After</c>, so the client keeps it.
/// </summary>
internal sealed class RelayEndpoints(
    RelayOptions options,
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
    public const string ReadyPath = "/relay/ready";

    /// <summary>The batch endpoint's 413 text, as Next.js words it.</summary>
    public const string IngestionTooLarge = "Body exceeded 4.5mb limit";

    public async Task<IResult> OtlpAsync(HttpContext context)
    {
        var request = context.Request;
        var contentType = ContentHeaders.OtlpContentType(request.Headers.ContentType);
        if (!contentType.Accepted)
        {
            return Reject(RelayRejection.UnsupportedMediaType, contentType.Status, contentType.Error!);
        }

        var encoding = ContentHeaders.ContentEncoding(request.Headers.ContentEncoding);
        if (!encoding.Accepted)
        {
            return Reject(RelayRejection.UnsupportedMediaType, encoding.Status, encoding.Error!);
        }

        using var received = await bodies.ReadAsync(context, options.MaxOtlpBodyBytes);
        if (received.Status != BodyStatus.Ok)
        {
            return RefuseBody(context, received.Status, () => Reject(RelayRejection.TooLarge, 413, "Request body too large"));
        }

        using var inflated = encoding.Value is null ? default : await bodies.InflateAsync(received.Body, options.MaxOtlpBodyBytes, context.RequestAborted);
        if (encoding.Value is not null && inflated.Status != BodyStatus.Ok)
        {
            return RefuseBody(context, inflated.Status, () => Reject(RelayRejection.TooLarge, 413, "Request body too large (inflated)"));
        }

        var decoded = encoding.Value is null ? received.Body : inflated.Body;
        var error = contentType.Value == ContentHeaders.Protobuf
            ? OtlpRequestValidator.ValidateProtobuf(decoded.Span, out var spans)
            : OtlpRequestValidator.ValidateJson(decoded, out spans);
        if (error is not null)
        {
            return Reject(RelayRejection.Malformed, 400, "Invalid OTLP request: " + error);
        }

        if (spans > 0)
        {
            // Stored as received (compressed bodies stay compressed), with the normalised headers the forwarder sends.
            var record = new DurableRecord(PayloadKind.OtlpTraces, spans, timeProvider.GetUtcNow(), received.Body, contentType.Value, encoding.Value);
            if (await StoreAsync(context, record, "otlp") is { } refused)
            {
                return refused;
            }
        }

        return TypedResults.Json(EmptyBody.Instance, RelayJsonContext.Default.EmptyBody);
    }

    public async Task<IResult> IngestionAsync(HttpContext context)
    {
        var request = context.Request;
        var encoding = ContentHeaders.ContentEncoding(request.Headers.ContentEncoding);
        if (!encoding.Accepted)
        {
            return Reject(RelayRejection.UnsupportedMediaType, encoding.Status, encoding.Error!);
        }

        using var received = await bodies.ReadAsync(context, RelayOptions.MaxIngestionBodyBytes);
        if (received.Status != BodyStatus.Ok)
        {
            return RefuseBody(context, received.Status, IngestionBodyTooLarge);
        }

        // Langfuse's limit is on the body it parses, so a compressed body is limited by what it inflates to.
        using var inflated = encoding.Value is null ? default : await bodies.InflateAsync(received.Body, RelayOptions.MaxIngestionBodyBytes, context.RequestAborted);
        if (encoding.Value is not null && inflated.Status != BodyStatus.Ok)
        {
            return RefuseBody(context, inflated.Status, IngestionBodyTooLarge);
        }

        if (!ContentHeaders.IsJson(request.Headers.ContentType))
        {
            return InvalidRequest("Content-Type must be application/json");
        }

        var batch = IngestionBatchReader.Read(encoding.Value is null ? received.Body : inflated.Body, out var envelopeError);
        if (batch is null)
        {
            return InvalidRequest(envelopeError!);
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
            if (await StoreAsync(context, record, "ingestion") is { } refused)
            {
                return refused;
            }
        }

        var result = new IngestionResult(
            [.. valid.Select(static e => new IngestionSuccess(e.Id, 201))],
            [.. batch.Events.Where(static e => e.Error is not null).Select(static e => new IngestionError(e.Id, 400, "Invalid request data", e.Error!))]);
        return TypedResults.Json(result, RelayJsonContext.Default.IngestionResult, statusCode: StatusCodes.Status207MultiStatus);
    }

    /// <summary>Liveness, in Langfuse's shape (<c>200 {"status":"OK","version":...}</c>), written by the health-check middleware.</summary>
    public static Task WriteHealthAsync(HttpContext context, HealthReport report) =>
        context.Response.WriteAsJsonAsync(new HealthBody("OK", "langfuse-agents-relay " + LangfuseTracer.SdkVersion), RelayJsonContext.Default.HealthBody);

    /// <summary>Readiness: 200 <c>{"status":"OK"}</c>, or 503 <c>{"status":"NOT_READY","reason":...}</c> (the status code is the middleware's).</summary>
    public static Task WriteReadyAsync(HttpContext context, HealthReport report)
    {
        var reason = report.Entries.Values.Where(static e => e.Status != HealthStatus.Healthy).Select(static e => e.Description).FirstOrDefault();
        return context.Response.WriteAsJsonAsync(
            new ReadyBody(report.Status == HealthStatus.Healthy ? "OK" : "NOT_READY", reason),
            RelayJsonContext.Default.ReadyBody);
    }

    /// <summary>The 404 for anything else, in Langfuse's shape.</summary>
    public static IResult NotFound() => TypedResults.Json(new MessageBody("Not found"), RelayJsonContext.Default.MessageBody, statusCode: StatusCodes.Status404NotFound);

    private IResult IngestionBodyTooLarge()
    {
        metrics.Rejected(RelayRejection.TooLarge);
        return TypedResults.Text(IngestionTooLarge, "text/plain; charset=utf-8", statusCode: StatusCodes.Status413PayloadTooLarge);
    }

    /// <summary>Answers a body that could not be read whole: too large (as the endpoint words it), too slow, over budget, not gzip.</summary>
    private IResult RefuseBody(HttpContext context, BodyStatus status, Func<IResult> tooLarge)
    {
        switch (status)
        {
            case BodyStatus.TooLarge:
                return tooLarge();
            case BodyStatus.TimedOut:
                metrics.Rejected(RelayRejection.BodyTimeout);
                context.Response.Headers.Connection = "close"; // what is left of the body is never read
                return Message(408, "The request body was not received within the relay's body time limit");
            case BodyStatus.OverBudget:
                metrics.Rejected(RelayRejection.Busy);
                context.Response.Headers.RetryAfter = RetryAfterSeconds();
                return Message(503, "The relay is holding as many request bodies as it allows; retry later");
            case BodyStatus.Invalid:
                return Reject(RelayRejection.Malformed, 400, "Body is not valid gzip");
            default:
                context.Abort(); // the client went away (or stalled below Kestrel's minimum data rate): no answer
                return TypedResults.Empty;
        }
    }

    /// <summary>Null once the record is on disk; else the 503 that tells the client to keep it.</summary>
    private async Task<IResult?> StoreAsync(HttpContext context, DurableRecord record, string endpoint)
    {
        if (writer.TryAppendAsync(record) is not { } append)
        {
            // As many requests wait for the disk as the relay allows: the client keeps this one and retries.
            metrics.Rejected(RelayRejection.Busy);
            context.Response.Headers.RetryAfter = RetryAfterSeconds();
            return Message(503, "The relay has as many requests waiting for the disk as it allows; retry later");
        }

        var outcome = await append;
        if (outcome == AppendOutcome.Stored)
        {
            metrics.Accepted(endpoint, record.ItemCount, record.Payload.Length);
            return null;
        }

        var count = metrics.Rejected(RelayRejection.BufferUnavailable);
        if (count == 1 || count % 1000 == 0)
        {
            RelayLog.BufferRefused(logger, outcome.ToString(), count);
        }

        context.Response.Headers.RetryAfter = RetryAfterSeconds();
        return Message(503, "The relay cannot store this request now (buffer full or disk unavailable); retry later");
    }

    private string RetryAfterSeconds() => ((int)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private JsonHttpResult<MessageBody> Reject(RelayRejection reason, int status, string message)
    {
        metrics.Rejected(reason);
        return Message(status, message);
    }

    private JsonHttpResult<InvalidRequestBody> InvalidRequest(string error)
    {
        metrics.Rejected(RelayRejection.Malformed);
        return TypedResults.Json(new InvalidRequestBody("Invalid request data", error), RelayJsonContext.Default.InvalidRequestBody, statusCode: StatusCodes.Status400BadRequest);
    }

    private static JsonHttpResult<MessageBody> Message(int status, string message) =>
        TypedResults.Json(new MessageBody(message), RelayJsonContext.Default.MessageBody, statusCode: status);
}
