using Langfuse.Agents.Internal.Export;
using Polly.CircuitBreaker;

namespace Langfuse.Agents.Internal.Http;

/// <summary>
/// The one decision every path that sends makes about an answer: delivered, per event, retry later, pause, too large,
/// rejected, or never sendable. Pure and table-tested; <see cref="RetryPolicy"/> says which statuses are transient.
/// Three scopes: transient (retry later), permanent for this request or record (rejected, too large, unsendable), and
/// upstream-wide (pause).
/// </summary>
internal static class DeliveryClassifier
{
    /// <summary>Classifies an answer. <paramref name="perEventEndpoint"/>: the request went to the batch endpoint, whose 207 is per event.</summary>
    public static DeliveryVerdict Classify(ApiResponse response, bool perEventEndpoint)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.StatusCode switch
        {
            207 when perEventEndpoint => DeliveryVerdict.PerEvent,
            >= 200 and < 300 => DeliveryVerdict.Delivered,
            401 or 403 => DeliveryVerdict.Pause,
            var status when RetryPolicy.IsRetryableStatus(status) => DeliveryVerdict.RetryLater,
            413 => DeliveryVerdict.TooLarge,
            _ => DeliveryVerdict.Rejected,
        };
    }

    /// <summary>
    /// Classifies what the resilient sender threw once its retries were spent. Network failures, timeouts, an open
    /// circuit and cancellation are transient; anything else came from building the request out of these bytes (a
    /// <see cref="FormatException"/> for a content type <see cref="HttpClient"/> cannot parse, an invalid header value),
    /// which no retry can fix.
    /// </summary>
    public static DeliveryVerdict Classify(Exception exception, CancellationToken callerToken)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            BrokenCircuitException or IsolatedCircuitException => DeliveryVerdict.RetryLater,
            OperationCanceledException => DeliveryVerdict.RetryLater,
            _ when RetryPolicy.IsRetryableException(exception, callerToken) => DeliveryVerdict.RetryLater,
            _ => DeliveryVerdict.Unsendable,
        };
    }

    /// <summary>
    /// One event of a 207. <paramref name="results"/> null (the answer could not be read) or an event the answer does
    /// not mention is unknown, and unknown is retried: an event counts as delivered only on a parsed success.
    /// </summary>
    public static EventVerdict ClassifyEvent(IngestionResponse? results, string eventId, out IngestionError? error)
    {
        error = null;
        if (results is null)
        {
            return EventVerdict.RetryLater;
        }

        if (results.TryGetError(eventId, out var failed))
        {
            error = failed;
            return RetryPolicy.IsRetryableStatus(failed.Status) ? EventVerdict.RetryLater : EventVerdict.Rejected;
        }

        return results.IsAccepted(eventId) ? EventVerdict.Delivered : EventVerdict.RetryLater;
    }
}
