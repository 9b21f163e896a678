namespace Langfuse.Agents.Internal.Durable;

/// <summary>How much the forwarder sends at once. The defaults suit Langfuse; tests shrink them.</summary>
internal sealed record ForwarderLimits
{
    /// <summary>
    /// The largest request the forwarder builds by merging records: under Langfuse's 4.5 MB limit on the batch endpoint
    /// (OTLP has no limit there, but the same bound keeps requests well under what a proxy would refuse). A single
    /// record larger than this is still sent whole, as it came.
    /// </summary>
    public int MaxMergedRequestBytes { get; init; } = 4_000_000;

    /// <summary>The most records merged into one request.</summary>
    public int MaxRecordsPerRequest { get; init; } = 2_000;

    /// <summary>Segments taken from disk per round (sent as few requests as possible, then settled together).</summary>
    public int MaxSegmentsPerRound { get; init; } = 1_024;

    /// <summary>Payload bytes taken from disk per round: a bound on the forwarder's memory.</summary>
    public long MaxRoundBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>What a gzip record may inflate to before the forwarder gives it up as unsendable (the relay's own bound).</summary>
    public long MaxDecodedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>How often delivery from disk is summed up in one Information line.</summary>
    public TimeSpan SummaryInterval { get; init; } = TimeSpan.FromMinutes(1);
}
