namespace Langfuse.Agents.Internal.Diagnostics;

/// <summary>
/// What the export pipeline's own work did with its items: delivered, kept on disk, dropped. <see cref="LangfuseMetrics"/>
/// adds to the ledger of the current async flow, which the pipeline's reader sets for itself; so the disk forwarder's
/// replays (another flow) are not counted, and the exporter needs no extra plumbing. A flush reports the difference
/// between two readings.
/// </summary>
internal sealed class ExportLedger
{
    private static readonly AsyncLocal<ExportLedger?> Ambient = new();

    private long _delivered;
    private long _buffered;
    private long _dropped;

    /// <summary>The ledger of the current flow, if the pipeline set one.</summary>
    public static ExportLedger? Current
    {
        get => Ambient.Value;
        set => Ambient.Value = value;
    }

    public void Delivered(long count) => Interlocked.Add(ref _delivered, count);

    public void Buffered(long count) => Interlocked.Add(ref _buffered, count);

    public void Dropped(long count) => Interlocked.Add(ref _dropped, count);

    /// <summary>The totals now.</summary>
    public (long Delivered, long Buffered, long Dropped) Read() =>
        (Interlocked.Read(ref _delivered), Interlocked.Read(ref _buffered), Interlocked.Read(ref _dropped));

    /// <summary>What happened since <paramref name="before"/>.</summary>
    public LangfuseFlushResult Since((long Delivered, long Buffered, long Dropped) before, bool completed, long pending)
    {
        var (delivered, buffered, dropped) = Read();
        return new LangfuseFlushResult
        {
            Delivered = delivered - before.Delivered,
            Buffered = buffered - before.Buffered,
            Dropped = dropped - before.Dropped,
            Completed = completed,
            Pending = completed ? 0 : pending,
        };
    }
}
