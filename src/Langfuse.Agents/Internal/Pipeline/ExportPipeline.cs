using System.Threading.Channels;
using Langfuse.Agents.Internal.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Pipeline;

/// <summary>
/// The bounded in-memory queue and its single background reader. Producers call <see cref="TryEnqueue"/>, which
/// never blocks: when the queue is full in items or in estimated bytes the newest item is dropped and counted.
/// The reader batches by count, by bytes and by interval, and on <see cref="FlushAsync"/>.
/// </summary>
internal sealed class ExportPipeline : IAsyncDisposable
{
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(1);

    private readonly Channel<Entry> _channel;
    private readonly IBatchExporter _exporter;
    private readonly LangfuseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly int _flushAt;
    private readonly long _maxBatchBytes;
    private readonly long _maxQueueBytes;
    private readonly TimeSpan _flushInterval;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Lock _flushGate = new();
    private readonly Task _reader;
    private List<TaskCompletionSource<bool>> _flushRequests = [];
    private Task<bool>? _shutdownTask;
    private long _queuedBytes;
    private long _pending;
    private int _shutdown;
    private long _lastQueueFullLog = long.MinValue;

    private readonly ShutdownSignal _shutdownSignal;

    public ExportPipeline(LangfuseOptions options, IBatchExporter exporter, LangfuseMetrics metrics, ILogger logger, TimeProvider timeProvider, ShutdownSignal? shutdownSignal = null)
    {
        _shutdownSignal = shutdownSignal ?? new ShutdownSignal();
        _exporter = exporter;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        _flushAt = Math.Max(1, options.FlushAt);
        _maxBatchBytes = Math.Max(1, options.MaxRequestBytes);
        _maxQueueBytes = Math.Max(1, options.MaxQueueBytes);
        _flushInterval = options.FlushInterval > TimeSpan.Zero ? options.FlushInterval : TimeSpan.FromSeconds(1);
        _channel = Channel.CreateBounded<Entry>(new BoundedChannelOptions(Math.Max(1, options.MaxQueueSize))
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of waiting: the caller never blocks.
            AllowSynchronousContinuations = false,
        });
        metrics.SetQueueDepthSource(() => Interlocked.Read(ref _pending));
        _reader = Task.Run(RunAsync);
    }

    /// <summary>Items in the queue or in the batch being sent.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Offers an item; false (and counted) when it was dropped. Never blocks, never throws.</summary>
    public bool TryEnqueue(object item, int estimatedBytes)
    {
        if (Volatile.Read(ref _shutdown) != 0)
        {
            DropLate();
            return false;
        }

        if (Interlocked.Add(ref _queuedBytes, estimatedBytes) > _maxQueueBytes)
        {
            Interlocked.Add(ref _queuedBytes, -estimatedBytes);
            OnQueueFull();
            return false;
        }

        Interlocked.Increment(ref _pending);
        if (!_channel.Writer.TryWrite(new Entry(item, estimatedBytes)))
        {
            Interlocked.Decrement(ref _pending);
            Interlocked.Add(ref _queuedBytes, -estimatedBytes);
            if (Volatile.Read(ref _shutdown) != 0)
            {
                DropLate();
            }
            else
            {
                OnQueueFull();
            }

            return false;
        }

        _metrics.Enqueued();
        return true;
    }

    /// <summary>
    /// Sends everything enqueued before the call. True when that finished (delivered or dropped) within the timeout.
    /// </summary>
    public async Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (_reader.IsCompleted)
        {
            return Pending == 0;
        }

        var request = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_flushGate)
        {
            _flushRequests.Add(request);
        }

        _wake.Release();
        try
        {
            return await request.Task.WaitAsync(timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Stops accepting items, sends what is queued within <paramref name="timeout"/>, then abandons the rest
    /// (counted as <see cref="DropReason.Shutdown"/>). True when everything was handled in time.
    /// </summary>
    public Task<bool> ShutdownAsync(TimeSpan timeout)
    {
        lock (_flushGate)
        {
            return _shutdownTask ??= ShutdownCoreAsync(timeout);
        }
    }

    private async Task<bool> ShutdownCoreAsync(TimeSpan timeout)
    {
        Volatile.Write(ref _shutdown, 1);
        _shutdownSignal.Set();
        _channel.Writer.TryComplete();
        _wake.Release();
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

        // Whatever is still queued is dropped and counted.
        var abandoned = 0;
        while (_channel.Reader.TryRead(out var entry))
        {
            abandoned++;
            Interlocked.Add(ref _queuedBytes, -entry.Bytes);
        }

        if (abandoned > 0)
        {
            Interlocked.Add(ref _pending, -abandoned);
            _metrics.Dropped(DropReason.Shutdown, abandoned);
        }

        CompleteFlushRequests(inTime && Pending == 0);
        return inTime;
    }

    public async ValueTask DisposeAsync()
    {
        await ShutdownAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _stopping.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync()
    {
        var batch = new List<object>(Math.Min(_flushAt, 1024));
        long batchBytes = 0;
        var deadline = _timeProvider.GetUtcNow() + _flushInterval;
        var reader = _channel.Reader;
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

                var draining = flushes is not null || reader.Completion.IsCompleted || Volatile.Read(ref _shutdown) != 0;
                while (batch.Count < _flushAt && batchBytes < _maxBatchBytes && reader.TryRead(out var entry))
                {
                    batch.Add(entry.Item);
                    batchBytes += entry.Bytes;
                    Interlocked.Add(ref _queuedBytes, -entry.Bytes);
                }

                var full = batch.Count >= _flushAt || batchBytes >= _maxBatchBytes;
                var due = batch.Count > 0 && _timeProvider.GetUtcNow() >= deadline;
                if (full || due || (draining && batch.Count > 0))
                {
                    await ExportAsync(batch).ConfigureAwait(false);
                    batch.Clear();
                    batchBytes = 0;
                    deadline = _timeProvider.GetUtcNow() + _flushInterval;
                    if (flushes is not null)
                    {
                        // Keep draining until the queue is empty, then answer these flushes.
                        lock (_flushGate)
                        {
                            _flushRequests.InsertRange(0, flushes);
                        }
                    }

                    continue;
                }

                if (flushes is not null)
                {
                    foreach (var flush in flushes)
                    {
                        flush.TrySetResult(true);
                    }
                }

                if (reader.Completion.IsCompleted)
                {
                    return;
                }

                if (batch.Count == 0)
                {
                    deadline = _timeProvider.GetUtcNow() + _flushInterval;
                }

                await WaitAsync(reader, batch.Count > 0 ? deadline - _timeProvider.GetUtcNow() : Timeout.InfiniteTimeSpan).ConfigureAwait(false);
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

        if (batch.Count > 0)
        {
            Interlocked.Add(ref _pending, -batch.Count);
            _metrics.Dropped(DropReason.Shutdown, batch.Count);
        }
    }

    private async Task ExportAsync(List<object> batch)
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
            Interlocked.Add(ref _pending, -batch.Count);
            _metrics.RecordExportDuration(_timeProvider.GetElapsedTime(started));
        }
    }

    private async Task WaitAsync(ChannelReader<Entry> reader, TimeSpan timeout)
    {
        if (timeout != Timeout.InfiniteTimeSpan && timeout <= TimeSpan.Zero)
        {
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var readable = reader.WaitToReadAsync(cts.Token).AsTask();
        var woken = _wake.WaitAsync(cts.Token);
        var tasks = timeout == Timeout.InfiniteTimeSpan
            ? new[] { readable, woken }
            : new[] { readable, woken, Task.Delay(timeout, _timeProvider, cts.Token) };
        await Task.WhenAny(tasks).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        if (woken.IsCompletedSuccessfully)
        {
            return;
        }

        try
        {
            await woken.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected: we cancelled the wait for the wake signal; nothing consumed.
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

    private readonly record struct Entry(object Item, int Bytes);
}
