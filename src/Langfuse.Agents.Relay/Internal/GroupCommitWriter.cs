using System.Diagnostics;
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
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private Task? _loop;

    public GroupCommitWriter(IDurableQueue queue, RelayMetrics metrics, ILogger logger, Action stored)
    {
        _queue = queue;
        _metrics = metrics;
        _logger = logger;
        _stored = stored;
    }

    public void Start() => _loop ??= Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    /// <summary>Completes once the record is on disk (or could not be written). After <see cref="StopAsync"/>, answers <see cref="AppendOutcome.Unavailable"/>.</summary>
    public Task<AppendOutcome> AppendAsync(DurableRecord record)
    {
        var pending = new Pending(record, new TaskCompletionSource<AppendOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        return _pending.Writer.TryWrite(pending) ? pending.Done.Task : Task.FromResult(AppendOutcome.Unavailable);
    }

    /// <summary>Stops taking records and finishes the group commits already queued.</summary>
    public async Task StopAsync()
    {
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
            var started = Stopwatch.GetTimestamp();
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

            _metrics.Committed(group.Count, bytes, outcome == AppendOutcome.Stored, Stopwatch.GetElapsedTime(started));
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

    private sealed record Pending(DurableRecord Record, TaskCompletionSource<AppendOutcome> Done);
}
