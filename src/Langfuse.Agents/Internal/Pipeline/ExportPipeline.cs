using System.Collections.Concurrent;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Timing;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Pipeline;

/// <summary>
/// The bounded in-memory queue and its single background reader. Producers call <see cref="TryEnqueue"/>, which
/// never blocks: when the queue is full in items or in estimated bytes the newest item is dropped and counted.
/// The reader batches by count, by bytes and by interval, and on <see cref="FlushAsync"/>.
/// </summary>
/// <remarks>
/// The queue is a lock-free <see cref="ConcurrentQueue{T}"/> bounded by two counters rather than a bounded
/// <c>Channel</c>: a bounded channel takes a lock per write that the reader also takes, and on the caller's thread
/// that lock was most of the cost of ending an observation (measured in bench/RESULTS.md). The reader is woken
/// only when it has said it is idle, so a busy pipeline costs producers one enqueue and three interlocked adds.
/// </remarks>
internal sealed class ExportPipeline : IAsyncDisposable
{
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(1);

    private readonly ConcurrentQueue<Entry> _queue = new();
    private readonly IBatchExporter _exporter;
    private readonly LangfuseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ShutdownSignal _shutdownSignal;
    private readonly int _flushAt;
    private readonly long _maxBatchBytes;
    private readonly long _maxQueueItems;
    private readonly long _maxQueueBytes;
    private readonly TimeSpan _flushInterval;
    private readonly CancellationTokenSource _stopping = new();
    private readonly LoopWaiter _waiter;
    private readonly IdleProbe? _probe;
    private readonly ExportLedger _ledger = new();
    private readonly Lock _flushGate = new();
    private readonly Task _reader;
    private List<TaskCompletionSource<bool>> _flushRequests = [];
    private Task<LangfuseFlushResult>? _shutdownTask;
    private PaddedLong _queuedBytes;
    private PaddedLong _queued;
    private long _inFlight;
    private int _readerIdle;
    private int _shutdown;
    private int _closed;
    private long _lastQueueFullLog = long.MinValue;

    public ExportPipeline(
        LangfuseOptions options,
        IBatchExporter exporter,
        LangfuseMetrics metrics,
        ILogger logger,
        TimeProvider timeProvider,
        ShutdownSignal? shutdownSignal = null,
        IdleProbe? probe = null)
    {
        _exporter = exporter;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        _shutdownSignal = shutdownSignal ?? new ShutdownSignal();
        _flushAt = Math.Max(1, options.FlushAt);
        _maxBatchBytes = Math.Max(1, options.MaxRequestBytes);
        _maxQueueItems = Math.Max(1, options.MaxQueueSize);
        _maxQueueBytes = Math.Max(1, options.MaxQueueBytes);
        _flushInterval = options.FlushInterval > TimeSpan.Zero ? options.FlushInterval : TimeSpan.FromSeconds(1);
        metrics.SetQueueDepthSource(() => Pending);
        _probe = probe;
        _waiter = new LoopWaiter(timeProvider, probe);
        probe?.Started();
        _reader = Task.Run(RunAsync);
    }

    /// <summary>Items in the queue or in the batch being sent.</summary>
    public long Pending => Volatile.Read(ref _queued.Value) + Volatile.Read(ref _inFlight);

    /// <summary>Offers an item; false (and counted) when it was dropped. Never blocks, never throws.</summary>
    public bool TryEnqueue(in ExportItem item, int estimatedBytes)
    {
        if (Volatile.Read(ref _shutdown) != 0)
        {
            DropLate();
            return false;
        }

        var queued = Interlocked.Increment(ref _queued.Value);
        if (queued > _maxQueueItems)
        {
            Interlocked.Decrement(ref _queued.Value);
            OnQueueFull();
            return false;
        }

        var queuedBytes = Interlocked.Add(ref _queuedBytes.Value, estimatedBytes);
        if (queuedBytes > _maxQueueBytes)
        {
            Interlocked.Add(ref _queuedBytes.Value, -estimatedBytes);
            Interlocked.Decrement(ref _queued.Value);
            OnQueueFull();
            return false;
        }

        _queue.Enqueue(new Entry(item, estimatedBytes));
        _metrics.Enqueued();
        if (Volatile.Read(ref _closed) != 0)
        {
            // Raced with the end of shutdown after its final drain: count it now rather than strand it.
            DrainAbandoned();
        }
        else if ((queued == 1 || queued == _flushAt || (queuedBytes >= _maxBatchBytes && queuedBytes - estimatedBytes < _maxBatchBytes))
            && Volatile.Read(ref _readerIdle) != 0 && Interlocked.Exchange(ref _readerIdle, 0) != 0)
        {
            // Only two moments need the reader: the first item (to start the interval) and a full batch.
            // Waking it for every item would cost each caller a lock.
            _waiter.Wake();
        }

        return true;
    }

    /// <summary>
    /// Sends everything enqueued before the call, and says what became of what it handled (delivered, kept on disk,
    /// dropped) and whether it finished within the timeout.
    /// </summary>
    public async Task<LangfuseFlushResult> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var before = _ledger.Read();
        if (_reader.IsCompleted)
        {
            return _ledger.Since(before, Pending == 0, Pending);
        }

        var request = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_flushGate)
        {
            _flushRequests.Add(request);
        }

        Wake();
        bool completed;
        try
        {
            completed = await request.Task.WaitAsync(timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            completed = false;
        }
        catch (OperationCanceledException)
        {
            completed = false;
        }

        return _ledger.Since(before, completed, Pending);
    }

    /// <summary>
    /// Stops accepting items, sends what is queued within <paramref name="timeout"/>, then keeps the rest on disk (or
    /// drops it, counted as <see cref="DropReason.Shutdown"/>). Says what became of the items and whether everything
    /// was handled in time. Later calls return the first call's result.
    /// </summary>
    public Task<LangfuseFlushResult> ShutdownAsync(TimeSpan timeout)
    {
        lock (_flushGate)
        {
            return _shutdownTask ??= ShutdownCoreAsync(timeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ShutdownAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task<LangfuseFlushResult> ShutdownCoreAsync(TimeSpan timeout)
    {
        var before = _ledger.Read();
        Volatile.Write(ref _shutdown, 1);
        _shutdownSignal.Set();
        Wake();
        var inTime = true;
        try
        {
            await _reader.WaitAsync(timeout, _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            inTime = false;
            Log.ShutdownTimedOut(_logger, timeout, Pending);
            await _stopping.CancelAsync().ConfigureAwait(false);

            // The exporter observes the token and returns at once, counting its batch. Give it a short, real-time
            // grace, but no more: it may be inside user code (a mask, a serializer) that cannot see the token, and
            // then the batch it holds is counted whenever that code returns.
            try
            {
                await _reader.WaitAsync(ShutdownGrace).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Stuck in user code; we return anyway.
            }
        }

        Volatile.Write(ref _closed, 1);
        await PersistAbandonedAsync().ConfigureAwait(false);
        CompleteFlushRequests(inTime && Pending == 0);
        return _ledger.Since(before, inTime, Pending);
    }

    /// <summary>
    /// The single reader. Items stay in the queue until a batch is due: full (count or bytes), an interval after the
    /// first of them arrived, a flush, or shutdown. Then it drains one batch, exports it, and looks again.
    /// </summary>
    private async Task RunAsync()
    {
        // Everything the exporter counts from this flow is the pipeline's own work (see ExportLedger).
        ExportLedger.Current = _ledger;
        try
        {
            await RunLoopAsync().ConfigureAwait(false);
        }
        finally
        {
            _probe?.Stopped();
        }
    }

    private async Task RunLoopAsync()
    {
        var batch = new List<ExportItem>(Math.Min(_flushAt, 1024));
        DateTimeOffset? deadline = null;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                List<TaskCompletionSource<bool>>? flushes = null;
                lock (_flushGate)
                {
                    if (_flushRequests.Count > 0)
                    {
                        flushes = _flushRequests;
                        _flushRequests = [];
                    }
                }

                var stopping = Volatile.Read(ref _shutdown) != 0;
                var queued = Volatile.Read(ref _queued.Value);
                var full = queued >= _flushAt || Volatile.Read(ref _queuedBytes.Value) >= _maxBatchBytes;
                var due = deadline is { } d && _timeProvider.GetUtcNow() >= d;
                if (queued > 0 && (full || due || flushes is not null || stopping))
                {
                    await DrainAndExportAsync(batch).ConfigureAwait(false);
                    deadline = null;
                    if (flushes is not null)
                    {
                        // Keep going until the queue is empty, then answer these flushes.
                        lock (_flushGate)
                        {
                            _flushRequests.InsertRange(0, flushes);
                        }
                    }

                    continue;
                }

                if (flushes is not null && queued == 0)
                {
                    foreach (var flush in flushes)
                    {
                        flush.TrySetResult(true);
                    }
                }
                else if (flushes is not null)
                {
                    lock (_flushGate)
                    {
                        _flushRequests.InsertRange(0, flushes);
                    }
                }

                if (stopping && queued == 0)
                {
                    return;
                }

                if (queued == 0)
                {
                    deadline = null;
                    await WaitAsync(Timeout.InfiniteTimeSpan).ConfigureAwait(false);
                }
                else
                {
                    deadline ??= _timeProvider.GetUtcNow() + _flushInterval;
                    await WaitAsync(deadline.Value - _timeProvider.GetUtcNow()).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Log.LoopError(_logger, ex);
            }
        }
    }

    private async Task DrainAndExportAsync(List<ExportItem> batch)
    {
        long bytes = 0;
        batch.Clear();
        while (batch.Count < _flushAt && bytes < _maxBatchBytes && _queue.TryDequeue(out var entry))
        {
            batch.Add(entry.Item);
            bytes += entry.Bytes;
        }

        if (batch.Count == 0)
        {
            return;
        }

        // Moved from the queue to the batch in hand: one update per batch, not per item.
        Volatile.Write(ref _inFlight, batch.Count);
        Interlocked.Add(ref _queued.Value, -batch.Count);
        Interlocked.Add(ref _queuedBytes.Value, -bytes);
        await ExportAsync(batch).ConfigureAwait(false);
        batch.Clear();
    }

    private async Task ExportAsync(List<ExportItem> batch)
    {
        var started = _timeProvider.GetTimestamp();
        try
        {
            await _exporter.ExportAsync(batch, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The exporter accounts for its items itself; this is a last line of defence for the loop.
            Log.LoopError(_logger, ex);
        }
        finally
        {
            Volatile.Write(ref _inFlight, 0);
            _metrics.RecordExportDuration(_timeProvider.GetElapsedTime(started));
        }
    }

    /// <summary>Sleeps until an item arrives, a flush or shutdown is requested, or the timeout passes.</summary>
    private async Task WaitAsync(TimeSpan timeout)
    {
        if (timeout != Timeout.InfiniteTimeSpan && timeout <= TimeSpan.Zero)
        {
            return;
        }

        Interlocked.Exchange(ref _readerIdle, 1); // a full fence: the flag must be visible before we look at the queue
        var wakeReason = timeout == Timeout.InfiniteTimeSpan
            ? !_queue.IsEmpty
            : Volatile.Read(ref _queued.Value) >= _flushAt || Volatile.Read(ref _queuedBytes.Value) >= _maxBatchBytes;
        if (wakeReason || Volatile.Read(ref _shutdown) != 0 || HasFlushRequests())
        {
            // What a producer would have woken us for happened between our last look and raising the flag.
            Volatile.Write(ref _readerIdle, 0);
            return;
        }

        await _waiter.WaitAsync(timeout, _stopping.Token).ConfigureAwait(false);
        Volatile.Write(ref _readerIdle, 0);
    }

    private bool HasFlushRequests()
    {
        lock (_flushGate)
        {
            return _flushRequests.Count > 0;
        }
    }

    private void Wake()
    {
        Volatile.Write(ref _readerIdle, 0);
        _waiter.Wake();
    }

    /// <summary>What shutdown could not send goes to the exporter's buffer (local and quick), within a short grace.</summary>
    private async Task PersistAbandonedAsync()
    {
        var abandoned = new List<ExportItem>();
        long bytes = 0;
        while (_queue.TryDequeue(out var entry))
        {
            abandoned.Add(entry.Item);
            bytes += entry.Bytes;
        }

        if (abandoned.Count == 0)
        {
            return;
        }

        Interlocked.Add(ref _queuedBytes.Value, -bytes);
        Interlocked.Add(ref _queued.Value, -abandoned.Count);
        var persist = Task.Run(() =>
        {
            ExportLedger.Current = _ledger; // shutdown's own work: it is in the shutdown's result
            try
            {
                _exporter.Persist(abandoned, DropReason.Shutdown);
            }
            catch (Exception ex)
            {
                Log.LoopError(_logger, ex);
                _metrics.Dropped(DropReason.Shutdown, abandoned.Count);
            }
        });
        try
        {
            await persist.WaitAsync(ShutdownGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A mask or serializer stuck in user code: the items are counted whenever it returns.
        }
    }

    private void DrainAbandoned()
    {
        var abandoned = 0;
        long bytes = 0;
        while (_queue.TryDequeue(out var entry))
        {
            abandoned++;
            bytes += entry.Bytes;
        }

        if (abandoned > 0)
        {
            Interlocked.Add(ref _queuedBytes.Value, -bytes);
            Interlocked.Add(ref _queued.Value, -abandoned);
            _metrics.Dropped(DropReason.Shutdown, abandoned);
        }
    }

    private void CompleteFlushRequests(bool result)
    {
        List<TaskCompletionSource<bool>> flushes;
        lock (_flushGate)
        {
            flushes = _flushRequests;
            _flushRequests = [];
        }

        foreach (var flush in flushes)
        {
            flush.TrySetResult(result);
        }
    }

    /// <summary>
    /// An item that arrives after shutdown began was accepted by the SDK and then dropped: it counts on both sides,
    /// so enqueued = exported + drops after enqueue still holds.
    /// </summary>
    private void DropLate()
    {
        _metrics.Enqueued();
        _metrics.Dropped(DropReason.Shutdown);
    }

    private void OnQueueFull()
    {
        _metrics.Dropped(DropReason.QueueFull);
        var now = _timeProvider.GetTimestamp();
        var last = Interlocked.Read(ref _lastQueueFullLog);
        if (last == long.MinValue || _timeProvider.GetElapsedTime(last, now) > TimeSpan.FromSeconds(30))
        {
            if (Interlocked.CompareExchange(ref _lastQueueFullLog, now, last) == last)
            {
                Log.QueueFull(_logger, _metrics.DroppedCount(DropReason.QueueFull));
            }
        }
    }

    private readonly record struct Entry(ExportItem Item, int Bytes);
}
