using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Diagnostics;

/// <summary>
/// Every log line the SDK writes. None takes a key, a header or a URL with credentials: base URLs go through
/// <see cref="Redaction.Url"/>, and a test asserts that keys never appear.
/// </summary>
internal static partial class Log
{
    public const string CategoryName = "Langfuse.Agents";
    public const string ExportCategoryName = "Langfuse.Agents.Export";
    public const string BufferCategoryName = "Langfuse.Agents.Buffer";

    [LoggerMessage(1, LogLevel.Information, "Langfuse tracing is off: {Reason}. The application runs unchanged and nothing will be sent.")]
    public static partial void TracingOff(ILogger logger, string reason);

    [LoggerMessage(2, LogLevel.Error, "Langfuse tracing is off because it cannot work: {Reason}. The application runs unchanged and nothing will be sent.")]
    public static partial void TracingCannotWork(ILogger logger, string reason);

    [LoggerMessage(4, LogLevel.Warning, "{Count} Langfuse setting(s) could not be used as given and were replaced: {Problems}")]
    public static partial void SettingsReplaced(ILogger logger, int count, string problems);

    [LoggerMessage(3, LogLevel.Information, "Langfuse tracing on: sending to {BaseUrl} via {Protocol}, sample rate {SampleRate}.")]
    public static partial void TracingOn(ILogger logger, string baseUrl, IngestionProtocol protocol, double sampleRate);

    [LoggerMessage(10, LogLevel.Warning, "The Langfuse queue is full; dropping new items (dropped so far: {Dropped}). Raise LANGFUSE_MAX_QUEUE_SIZE / LANGFUSE_MAX_QUEUE_BYTES or reduce traced volume.")]
    public static partial void QueueFull(ILogger logger, long dropped);

    [LoggerMessage(11, LogLevel.Debug, "Retrying a Langfuse request (retry {Attempt}) after {Failure}; waiting {Delay}.")]
    public static partial void Retrying(ILogger logger, int attempt, string failure, TimeSpan delay);

    [LoggerMessage(12, LogLevel.Debug, "Langfuse requests keep failing ({Failure}); pausing sends for {BreakDuration}.")]
    public static partial void CircuitOpened(ILogger logger, TimeSpan breakDuration, string failure);

    [LoggerMessage(13, LogLevel.Debug, "The circuit breaker closed: a trial request succeeded.")]
    public static partial void CircuitClosed(ILogger logger);

    [LoggerMessage(14, LogLevel.Warning, "Dropped {Count} items: {Reason} ({Detail}).")]
    public static partial void BatchDropped(ILogger logger, int count, string reason, string detail);

    // The same line, at Debug while an outage is under way: the outage's own two lines (40, 41) carry the counts.
    [LoggerMessage(42, LogLevel.Debug, "Dropped {Count} items: {Reason} ({Detail}).")]
    public static partial void BatchDroppedDuringOutage(ILogger logger, int count, string reason, string detail);

    [LoggerMessage(15, LogLevel.Warning, "Langfuse rejected {Count} events: HTTP {Status} {Message}.")]
    public static partial void EventsRejected(ILogger logger, int count, int status, string message);

    [LoggerMessage(16, LogLevel.Warning, "The Langfuse OTLP endpoint answered 404: this server predates OTLP ingestion. Switching to the legacy batch protocol for the rest of this process (set LANGFUSE_INGESTION_PROTOCOL=legacy to skip this probe).")]
    public static partial void FallingBackToLegacy(ILogger logger);

    [LoggerMessage(17, LogLevel.Debug, "Langfuse accepted a request of {Count} items.")]
    public static partial void Exported(ILogger logger, int count);

    [LoggerMessage(18, LogLevel.Warning, "An item of about {Size} bytes exceeded {Limit} bytes; shrank {Fields}.")]
    public static partial void Shrunk(ILogger logger, int size, int limit, string fields);

    [LoggerMessage(19, LogLevel.Warning, "Langfuse answered HTTP {Status} (too large) for a single item; dropping it.")]
    public static partial void SingleItemTooLarge(ILogger logger, int status);

    [LoggerMessage(20, LogLevel.Error, "Unexpected error in the Langfuse export loop; it keeps running.")]
    public static partial void LoopError(ILogger logger, Exception exception);

    [LoggerMessage(21, LogLevel.Warning, "Langfuse shutdown budget of {Budget} ran out; {Count} items were not sent.")]
    public static partial void ShutdownTimedOut(ILogger logger, TimeSpan budget, long count);

    [LoggerMessage(22, LogLevel.Warning, "The mask function threw {ExceptionType} {Count} time(s) since the last report; each such value was sent fully masked. Reported at most once a minute.")]
    public static partial void MaskFailed(ILogger logger, string exceptionType, long count);

    [LoggerMessage(23, LogLevel.Error, "Langfuse refused the credentials (HTTP 401); check LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and LANGFUSE_BASE_URL. Dropped {Count} items.")]
    public static partial void AuthFailed(ILogger logger, int count);

    [LoggerMessage(30, LogLevel.Error, "Langfuse answered HTTP {Status} ({Reason}): sending is paused for {Pause}; batches wait on disk and one probe is sent after the pause. Check LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and LANGFUSE_BASE_URL, or the project's usage limits.")]
    public static partial void SendingPaused(ILogger logger, int status, string reason, TimeSpan pause);

    [LoggerMessage(31, LogLevel.Debug, "Langfuse is unreachable or failing ({Reason}); {Count} items were written to the on-disk buffer and will be sent when it answers.")]
    public static partial void Spilled(ILogger logger, string reason, int count);

    [LoggerMessage(32, LogLevel.Information, "Delivered {Count} buffered items from disk.")]
    public static partial void Replayed(ILogger logger, long count);

    [LoggerMessage(33, LogLevel.Warning, "The on-disk buffer at {Path} is not used: {Reason}. Undeliverable batches will be dropped and counted.")]
    public static partial void BufferUnavailable(ILogger logger, string path, string reason);

    [LoggerMessage(40, LogLevel.Warning, "Langfuse delivery is failing ({Failure}); retrying with back-off. What cannot be sent waits in the on-disk buffer, or is dropped and counted without one. One line follows when Langfuse answers again.")]
    public static partial void DeliveryFailing(ILogger logger, string failure);

    [LoggerMessage(41, LogLevel.Information, "Langfuse delivery recovered after {Duration}: {FailedAttempts} attempts failed meanwhile; {FailedItems} items could not be sent then, {Buffered} of them kept on disk (sent from there now) and {Dropped} dropped.")]
    public static partial void DeliveryRecovered(ILogger logger, TimeSpan duration, long failedAttempts, long failedItems, long buffered, long dropped);

    [LoggerMessage(24, LogLevel.Error, "Langfuse refused ingestion (HTTP 403: {Reason}); on Langfuse Cloud this usually means the project's usage threshold is exceeded. Dropped {Count} items.")]
    public static partial void IngestionForbidden(ILogger logger, string reason, int count);
}
