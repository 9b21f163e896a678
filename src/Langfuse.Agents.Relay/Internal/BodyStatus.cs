namespace Langfuse.Agents.Relay.Internal;

/// <summary>How reading or inflating a body ended.</summary>
internal enum BodyStatus
{
    /// <summary>Read whole, within every limit.</summary>
    Ok,

    /// <summary>Larger than the limit (as received or as inflated): 413.</summary>
    TooLarge,

    /// <summary>Not finished within the total body time: 408, connection closed.</summary>
    TimedOut,

    /// <summary>The ingress memory budget is spent by other requests: 503 with <c>Retry-After</c>.</summary>
    OverBudget,

    /// <summary>Not valid gzip: 400.</summary>
    Invalid,

    /// <summary>The client went away (or stalled below Kestrel's minimum data rate): no answer.</summary>
    Aborted,
}
