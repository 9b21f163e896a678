using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Diagnostics;

/// <summary>
/// Log lines of delivery from the on-disk buffer and of per-event answers (event ids 80-89, and 32). Counts and reasons only,
/// never a key or a payload. Kept apart from <see cref="Log"/> so the forwarder's lines stay in one place.
/// </summary>
internal static partial class DeliveryLog
{
    [LoggerMessage(80, LogLevel.Warning, "Langfuse answered 207 but the per-event results could not be read; the {Count} events of that request are resent (their envelope ids make the resend idempotent), not counted as delivered.")]
    public static partial void MultiStatusUnreadable(ILogger logger, int count);

    [LoggerMessage(81, LogLevel.Information, "Buffered delivery over the last {Period}: {Items} items forwarded in {Requests} requests, {Rejected} rejected by Langfuse, {Quarantined} never sendable (set aside), {Waiting} items waiting on disk.")]
    public static partial void ForwardedSummary(ILogger logger, TimeSpan period, long items, long requests, long rejected, long quarantined, long waiting);

    // Event id 32 is the Information line this replaced (one per segment, ~100 lines/s under load); kept for readers of it.
    [LoggerMessage(32, LogLevel.Debug, "Delivered {Count} buffered items from {Segments} segments in {Requests} requests.")]
    public static partial void ForwardedRound(ILogger logger, long count, int segments, int requests);

    [LoggerMessage(83, LogLevel.Error, "A buffered request ({Items} items) can never be sent ({Reason}); it is set aside and counted, and the requests behind it go on.")]
    public static partial void Quarantined(ILogger logger, int items, string reason);

    [LoggerMessage(84, LogLevel.Warning, "Langfuse rejected {Items} buffered items for good ({Reason}).")]
    public static partial void Rejected(ILogger logger, int items, string reason);
}
