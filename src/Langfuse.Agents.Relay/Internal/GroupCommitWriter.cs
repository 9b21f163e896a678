using System.Threading.Channels;
using Langfuse.Agents.Internal.Durable;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Group commit: every request hands its record to one writer loop and waits; the loop takes everything queued, writes
/// it as one segment with one fsync (<see cref="IDurableQueue.Append"/> of many records), and then answers every
/// waiting request with the outcome. Under load, many requests share one fsync, so throughput follows the disk's
/// bandwidth rather than its fsync latency; with one request in flight it costs one fsync, as a lone write would.
/// </summary>
internal sealed class GroupCommitWriter : IAsyncDisposable
{
    /// <summary>One segment holds at most this many bytes of payload: a bounded write, and bounded re-reads by the forwarder.</summary>
    public const long MaxGroupBytes = 16L * 1024 * 1024;

    private const int MaxGroupRecords = 4096;

    private readonly IDurableQueue _queue;
    private readonly RelayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Action _stored;
    private readonly TimeProvider _time;
    private long _lastSuccessTicks;
    private long _lastFailureTicks;
    private int _lastFailureOutcome;
    private readonly Channel<Pending> _pending;
    private readonly int _capacity;
    private volatile bool _stopping;
    private Task? _loop;

    /// <param name="queue">Where the records go.</param>
    /// <param name="metrics">Commit counts and durations.</param>
    /// <param name="logger">Commit failures.</param>
    /// <param name="time">The clock (commit durations, last success and failure).</param>
    /// <param name="capacity">How many requests may wait for the disk at once; past it, <see cref="TryAppendAsync"/> refuses.</param>
    /// <param name="stored">Called after each group commit that reached the disk.</param>
    public GroupCommitWriter(IDurableQueue queue, RelayMetrics metrics, ILogger logger, TimeProvider time, int capacity, Action stored)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;

        // Bounded: when the disk falls behind, requests are refused (503) instead of queueing without limit. The reader
        // takes everything waiting at once, so a full line is one slow fsync deep, not a backlog.
        _pending = Channel.CreateBounded<Pending>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _time = time;
        _queue = queue;
        _metrics = metrics;
        _logger = logger;
        _stored = stored;
    }

    /// <summary>When a group commit last reached the disk (null before the first).</summary>
    public DateTimeOffset? LastSuccess => Ticks(Interlocked.Read(ref _lastSuccessTicks));

    /// <summary>When the buffer last refused a group commit (null if it never did).</summary>
    public DateTimeOffset? LastFailure => Ticks(Interlocked.Read(ref _lastFailureTicks));

    /// <summary>Why the buffer last refused a group commit (at its cap, or the disk failed).</summary>
    public AppendOutcome LastFailureOutcome => (AppendOutcome)Volatile.Read(ref _lastFailureOutcome);

    public void Start() => _loop ??= Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    /// <summary>How many requests wait for the group commit now (not counting the one being written).</summary>
    public int Waiting => _pending.Reader.Count;

    /// <summary>How many requests may wait at once.</summary>
    public int Capacity => _capacity;

    /// <summary>
    /// Queues the record for the next group commit. The task completes once the record is on disk (or could not be
    /// written); after <see cref="StopAsync"/> it answers <see cref="AppendOutcome.Unavailable"/>. Null when
    /// <see cref="Capacity"/> requests are already waiting: nothing was queued, the caller answers 503.
    /// </summary>
    public Task<AppendOutcome>? TryAppendAsync(DurableRecord record)
    {
        if (_stopping)
        {
            return Task.FromResult(AppendOutcome.Unavailable);
        }

        var pending = new Pending(record, new TaskCompletionSource<AppendOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_pending.Writer.TryWrite(pending))
        {
            return pending.Done.Task;
        }

        return _stopping ? Task.FromResult(AppendOutcome.Unavailable) : null;
    }

    /// <summary>Stops taking records and finishes the group commits already queued.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        _pending.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task RunAsync()
    {
        var group = new List<Pending>();
        var records = new List<DurableRecord>();
        var reader = _pending.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            group.Clear();
            records.Clear();
            long bytes = 0;
            while (group.Count < MaxGroupRecords && bytes < MaxGroupBytes && reader.TryRead(out var next))
            {
                group.Add(next);
                records.Add(next.Record);
                bytes += next.Record.Payload.Length;
            }

            AppendOutcome outcome;
            var started = _time.GetTimestamp();
            try
            {
                outcome = _queue.Append(records);
            }
#pragma warning disable CA1031 // The loop must answer every waiting request, whatever happens.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                RelayLog.CommitFailed(_logger, ex);
                outcome = AppendOutcome.WriteFailed;
            }

            _metrics.Committed(group.Count, bytes, outcome == AppendOutcome.Stored, _time.GetElapsedTime(started));
            if (outcome != AppendOutcome.Stored)
            {
                Volatile.Write(ref _lastFailureOutcome, (int)outcome);
            }

            Interlocked.Exchange(ref outcome == AppendOutcome.Stored ? ref _lastSuccessTicks : ref _lastFailureTicks, _time.GetUtcNow().UtcTicks);
            foreach (var pending in group)
            {
                pending.Done.TrySetResult(outcome);
            }

            if (outcome == AppendOutcome.Stored)
            {
                _stored();
            }
        }
    }

    private static DateTimeOffset? Ticks(long ticks) => ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);

    private sealed record Pending(DurableRecord Record, TaskCompletionSource<AppendOutcome> Done);
}
