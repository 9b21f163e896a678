namespace Langfuse.Agents.Internal.Http;

/// <summary>What a 207 says about one event of the request.</summary>
internal enum EventVerdict
{
    /// <summary>Listed as accepted, with no error.</summary>
    Delivered,

    /// <summary>A per-event 408, 429 or 5xx, or not mentioned at all (unknown): resend it (its envelope id makes that idempotent).</summary>
    RetryLater,

    /// <summary>A per-event 4xx: Langfuse will never take it.</summary>
    Rejected,
}
