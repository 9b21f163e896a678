namespace Langfuse.Agents.Internal.Http;

/// <summary>What one answer (or failure) means for the request that got it; see <see cref="DeliveryClassifier"/>.</summary>
internal enum DeliveryVerdict
{
    /// <summary>A 2xx that is not a per-event answer: every item of the request is delivered.</summary>
    Delivered,

    /// <summary>A 207 of the batch endpoint: each event has its own verdict (<see cref="DeliveryClassifier.ClassifyEvent"/>).</summary>
    PerEvent,

    /// <summary>Transient (408, 429, 5xx, network failure, timeout, open circuit, stopping): keep it and try later.</summary>
    RetryLater,

    /// <summary>401 or 403: nothing will get through for a while, for any request: pause sending, keep everything.</summary>
    Pause,

    /// <summary>413: this request is too large; a smaller one may pass (split it).</summary>
    TooLarge,

    /// <summary>Any other answer (400, 404, ...): Langfuse will never take these bytes.</summary>
    Rejected,

    /// <summary>The request could not even be built or sent from these bytes (an unparseable content type, ...): never sendable.</summary>
    Unsendable,
}
