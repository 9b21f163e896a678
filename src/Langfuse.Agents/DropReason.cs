namespace Langfuse.Agents;

/// <summary>Why an item (an observation or a score) was not delivered. Every drop is counted by reason.</summary>
public enum DropReason
{
    /// <summary>The in-memory queue was full (in items or in bytes); the newest item was dropped so the caller never waits.</summary>
    QueueFull,

    /// <summary>The trace was not kept by sampling.</summary>
    SampledOut,

    /// <summary>The item could not be made small enough to send, or the server refused it as too large.</summary>
    TooLarge,

    /// <summary>The item arrived after shutdown began, or shutdown's time budget ran out before it was sent.</summary>
    Shutdown,

    /// <summary>Every retry failed (network errors, timeouts, 408, 429, 5xx).</summary>
    ExportFailed,

    /// <summary>The circuit breaker was open after repeated failures, so the batch was not attempted.</summary>
    CircuitOpen,

    /// <summary>The server refused the item (400, 404, or a per-event 4xx); retrying cannot help.</summary>
    Rejected,

    /// <summary>The on-disk buffer reached its byte cap and its policy dropped this item (oldest first, or the newest).</summary>
    BufferFull,

    /// <summary>The item waited on disk longer than the retention age.</summary>
    Expired,

    /// <summary>The item's record on disk was damaged (torn, truncated, bit-flipped) and was skipped.</summary>
    Corrupt,

    /// <summary>The item could not be written to disk (disk full, directory unwritable or not private).</summary>
    DiskError,
}
