using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Pipeline;
using Langfuse.Agents.Internal.Timing;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Pipeline;

/// <summary>
/// The bounded queue and its background reader, against a recording exporter and a fake clock: batching by
/// count, bytes and interval, flush, drops when full, shutdown within its budget, and the accounting identity.
/// </summary>
public sealed class ExportPipelineTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan RealTimeGuard = LoadedMachine.HangGuard;

    private readonly FakeTimeProvider _time = new(FakeClock.Start);
    private readonly IdleProbe _idle = new();
    private readonly LangfuseMetrics _metrics = new();
    private readonly CapturingLoggerFactory _logs = new();
    private readonly RecordingExporter _exporter;
    private readonly List<ExportPipeline> _pipelines = [];

    public ExportPipelineTests()
    {
        _exporter = new RecordingExporter(_metrics);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _exporter.Release(); // never leave a reader stuck behind a test
        foreach (var pipeline in _pipelines)
        {
            await pipeline.ShutdownAsync(TimeSpan.Zero).WaitAsync(RealTimeGuard);
        }
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _logs.Dispose();
    }

    [Fact]
    public async Task Export_WhenFlushAtItemsAreQueued_SendsFullBatchesWithoutWaitingForTheInterval()
    {
        var pipeline = Create(o => o.FlushAt = 3);

        EnqueueItems(pipeline, 7);

        await _exporter.WaitForBatchesAsync(2);
        _exporter.Batches.Select(b => b.Count).ShouldBe([3, 3]);
        _exporter.Items.ShouldBe(["item-0", "item-1", "item-2", "item-3", "item-4", "item-5"]);
        _time.GetUtcNow().ShouldBe(_time.Start, "the clock never moved: these batches went out because they were full");
    }

    [Fact]
    public async Task Export_WhenQueuedBytesReachMaxRequestBytes_SendsTheBatchBeforeFlushAtIsReached()
    {
        var pipeline = Create(o =>
        {
            o.FlushAt = 100;
            o.MaxRequestBytes = 1_000;
        });

        EnqueueItems(pipeline, 6, bytes: 500);

        await _exporter.WaitForBatchesAsync(3);
        _exporter.Batches.Select(b => b.Count).ShouldBe([2, 2, 2]);
    }

    [Fact]
    public async Task Export_WhenFlushIntervalElapses_SendsThePartialBatch_AndNotBefore()
    {
        var pipeline = Create(o =>
        {
            o.FlushAt = 10;
            o.FlushInterval = TimeSpan.FromSeconds(5);
        });

        EnqueueItems(pipeline, 2);
        await _idle.WaitIdleAsync(RealTimeGuard); // the reader holds a partial batch and waits (timer armed) for its deadline

        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        _exporter.Batches.ShouldBeEmpty("the interval has not elapsed yet");

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await _exporter.WaitForBatchesAsync(1);
        _exporter.Batches.Single().ShouldBe(["item-0", "item-1"]);
    }

    [Fact]
    public async Task FlushAsync_SendsEverythingEnqueuedBeforeIt_AndReturnsTrue()
    {
        var pipeline = Create(o =>
        {
            o.FlushAt = 2;
            o.FlushInterval = TimeSpan.FromMinutes(1);
        });
        EnqueueItems(pipeline, 5);

        var flushed = await pipeline.FlushAsync(TimeSpan.FromSeconds(10)).WaitAsync(RealTimeGuard);

        flushed.ShouldBe(new LangfuseFlushResult { Delivered = 5, Completed = true });
        flushed.AllDelivered.ShouldBeTrue();
        _exporter.Items.ShouldBe(["item-0", "item-1", "item-2", "item-3", "item-4"]);
        pipeline.Pending.ShouldBe(0);
        _time.GetUtcNow().ShouldBe(_time.Start, "the partial batch went out because of the flush, not the interval");
    }

    [Fact]
    public async Task FlushAsync_WithNothingQueued_ReturnsTrueAtOnce()
    {
        var pipeline = Create();

        (await pipeline.FlushAsync(TimeSpan.FromSeconds(1)).WaitAsync(RealTimeGuard)).Completed.ShouldBeTrue();

        _exporter.Batches.ShouldBeEmpty();
    }

    [Fact]
    public async Task FlushAsync_WhenTheExporterIsStuck_ReturnsFalseOnceTheTimeoutPasses()
    {
        var pipeline = Create(o => o.FlushAt = 100);
        _exporter.Block();
        EnqueueItems(pipeline, 1);

        var flush = pipeline.FlushAsync(TimeSpan.FromSeconds(3));
        await _exporter.WaitForStartedAsync(1);

        _time.Advance(TimeSpan.FromSeconds(3) - TimeSpan.FromMilliseconds(1));
        flush.IsCompleted.ShouldBeFalse("the timeout has not passed yet");

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var result = await flush.WaitAsync(RealTimeGuard);
        result.Completed.ShouldBeFalse();
        result.AllDelivered.ShouldBeFalse();
        result.Delivered.ShouldBe(0);
        result.Pending.ShouldBe(1, "the item is still in the exporter's hands");
    }

    [Fact]
    public async Task FlushAsync_TellsDeliveredKeptOnDiskAndDroppedApart()
    {
        var pipeline = Create(o => o.FlushAt = 100);
        _exporter.RejectWhere(static item => item == "item-1");
        _exporter.KeepOnDiskWhere(static item => item is "item-2" or "item-3");
        EnqueueItems(pipeline, 5);

        var result = await pipeline.FlushAsync(TimeSpan.FromSeconds(10)).WaitAsync(RealTimeGuard);

        result.ShouldBe(new LangfuseFlushResult { Delivered = 2, Buffered = 2, Dropped = 1, Completed = true });
        result.AllDelivered.ShouldBeFalse("two items only reached the disk and one was rejected");
    }

    [Fact]
    public async Task FlushAsync_CountsOnlyWhatItHandled_NotEarlierBatchesNorWorkOutsideThePipeline()
    {
        var pipeline = Create(o => o.FlushAt = 100);
        EnqueueItems(pipeline, 3);
        (await pipeline.FlushAsync(TimeSpan.FromSeconds(10)).WaitAsync(RealTimeGuard)).Delivered.ShouldBe(3);

        _metrics.Exported(40); // the disk forwarder delivering an old backlog, on its own flow
        EnqueueItems(pipeline, 2);
        var second = await pipeline.FlushAsync(TimeSpan.FromSeconds(10)).WaitAsync(RealTimeGuard);

        second.ShouldBe(new LangfuseFlushResult { Delivered = 2, Completed = true });
    }

    [Fact]
    public async Task TryEnqueue_WhenTheQueueHoldsMaxQueueSizeItems_DropsTheNewestAsQueueFull_WithoutBlocking()
    {
        var pipeline = Create(o =>
        {
            o.FlushAt = 1;
            o.MaxQueueSize = 3;
        });
        _exporter.Block();
        pipeline.TryEnqueue(Item("item-0"), 10).ShouldBeTrue();
        await _exporter.WaitForStartedAsync(1); // the reader is stuck with item-0; the queue is empty again

        var accepted = await Task.Run(() => Enumerable.Range(1, 5).Select(i => pipeline.TryEnqueue(Item($"item-{i}"), 10)).ToList())
            .WaitAsync(RealTimeGuard); // a blocking TryEnqueue would trip this guard

        accepted.ShouldBe([true, true, true, false, false]);
        _metrics.DroppedCount(DropReason.QueueFull).ShouldBe(2);
        _exporter.Release();
        (await pipeline.FlushAsync(TimeSpan.FromSeconds(10)).WaitAsync(RealTimeGuard)).Completed.ShouldBeTrue();
        _exporter.Items.ShouldBe(["item-0", "item-1", "item-2", "item-3"], "the newest items were the ones dropped");
        AssertAccounting(enqueued: 4);
        _logs.Entries.Count(e => e.EventId.Id == 10).ShouldBe(1, "a full queue is reported once, not per dropped item");
    }

    [Fact]
    public async Task TryEnqueue_WhenQueuedBytesWouldExceedMaxQueueBytes_DropsTheNewestAsQueueFull()
    {
        var pipeline = Create(o =>
        {
            o.FlushAt = 1;
            o.MaxQueueSize = 100;
            o.MaxQueueBytes = 1_000;
        });
        _exporter.Block();
        pipeline.TryEnqueue(Item("item-0"), 300).ShouldBeTrue();
        await _exporter.WaitForStartedAsync(1);

        pipeline.TryEnqueue(Item("item-1"), 300).ShouldBeTrue();
        pipeline.TryEnqueue(Item("item-2"), 300).ShouldBeTrue();
        pipeline.TryEnqueue(Item("item-3"), 300).ShouldBeTrue();
        pipeline.TryEnqueue(Item("too-much"), 300).ShouldBeFalse("1,200 queued bytes would exceed 1,000");
        pipeline.TryEnqueue(Item("item-4"), 100).ShouldBeTrue("a smaller item still fits");

        _metrics.DroppedCount(DropReason.QueueFull).ShouldBe(1);
        _exporter.Release();
        (await pipeline.FlushAsync(TimeSpan.FromSeconds(10)).WaitAsync(RealTimeGuard)).Completed.ShouldBeTrue();
        _exporter.Items.ShouldBe(["item-0", "item-1", "item-2", "item-3", "item-4"]);
        AssertAccounting(enqueued: 5);
    }

    [Fact]
    public async Task TryEnqueue_AfterBytesAreSent_FreesTheirRoomInTheQueue()
    {
        var pipeline = Create(o =>
        {
            o.FlushAt = 100;
            o.MaxQueueBytes = 1_000;
        });

        for (var round = 0; round < 3; round++)
        {
            pipeline.TryEnqueue(Item($"round-{round}"), 900).ShouldBeTrue($"round {round}: the previous round's bytes were released");
            (await pipeline.FlushAsync(TimeSpan.FromSeconds(10)).WaitAsync(RealTimeGuard)).Completed.ShouldBeTrue();
        }

        _metrics.DroppedCount(DropReason.QueueFull).ShouldBe(0);
        AssertAccounting(enqueued: 3);
    }

    [Fact]
    public async Task ShutdownAsync_SendsTheQueue_ThenDropsLaterItemsAsShutdown()
    {
        var pipeline = Create(o =>
        {
            o.FlushAt = 2;
            o.FlushInterval = TimeSpan.FromMinutes(1);
        });
        EnqueueItems(pipeline, 5);

        var inTime = await pipeline.ShutdownAsync(TimeSpan.FromSeconds(5)).WaitAsync(RealTimeGuard);

        inTime.ShouldBe(new LangfuseFlushResult { Delivered = 5, Completed = true });
        _exporter.Items.Count.ShouldBe(5);
        pipeline.Pending.ShouldBe(0);
        pipeline.TryEnqueue(Item("late"), 10).ShouldBeFalse();
        _metrics.DroppedCount(DropReason.Shutdown).ShouldBe(1);
        _exporter.Items.ShouldNotContain("late");
        (await pipeline.FlushAsync(TimeSpan.FromSeconds(1)).WaitAsync(RealTimeGuard)).Completed.ShouldBeTrue("flush after shutdown has nothing left to do");
    }

    [Fact]
    public async Task ShutdownAsync_WhenTheExporterIsStuck_ReturnsFalseAfterTheBudget_AndCountsTheAbandonedItemsAsShutdown()
    {
        var pipeline = Create(o => o.FlushAt = 1);
        _exporter.Block();
        EnqueueItems(pipeline, 3);
        await _exporter.WaitForStartedAsync(1);

        var shutdown = pipeline.ShutdownAsync(TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        shutdown.IsCompleted.ShouldBeFalse("the budget has not run out yet");

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var inTime = await shutdown.WaitAsync(RealTimeGuard);

        inTime.Completed.ShouldBeFalse();
        inTime.Dropped.ShouldBe(3, "this fake has no disk: what shutdown could not send is dropped, and the result says so");
        _metrics.DroppedCount(DropReason.Shutdown).ShouldBe(3, "one cancelled in the exporter, two never taken from the queue");
        pipeline.Pending.ShouldBe(0);
        AssertAccounting(enqueued: 3);
        _logs.Entries.ShouldContain(e => e.EventId.Id == 21 && e.Message.Contains("3 items were not sent", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ShutdownAsync_WhenTheExporterIgnoresCancellation_StillReturnsFalseAfterTheBudget()
    {
        // The exporter runs user code (the mask, serialization of user objects) that cannot observe the token.
        var pipeline = Create(o => o.FlushAt = 1);
        _exporter.Block(ignoreCancellation: true);
        EnqueueItems(pipeline, 2);
        await _exporter.WaitForStartedAsync(1);

        var shutdown = pipeline.ShutdownAsync(TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5));

        LangfuseFlushResult inTime;
        try
        {
            inTime = await shutdown.WaitAsync(TimeSpan.FromSeconds(3));
        }
        catch (TimeoutException)
        {
            throw new ShouldAssertException("ShutdownAsync must return once its budget is spent, even when the exporter never returns.");
        }

        inTime.Completed.ShouldBeFalse();
        _metrics.DroppedCount(DropReason.Shutdown).ShouldBe(1, "the item never taken from the queue");
    }

    [Fact]
    public async Task ExportAsync_WhenTheExporterThrows_TheReaderLogsAndKeepsRunning()
    {
        var pipeline = Create(o => o.FlushAt = 1);
        _exporter.ThrowOn("poison");

        pipeline.TryEnqueue(Item("poison"), 10).ShouldBeTrue();
        pipeline.TryEnqueue(Item("item-1"), 10).ShouldBeTrue();
        (await pipeline.FlushAsync(TimeSpan.FromSeconds(10)).WaitAsync(RealTimeGuard)).Completed.ShouldBeTrue();

        _exporter.Items.ShouldBe(["item-1"]);
        pipeline.Pending.ShouldBe(0);
        _logs.Entries.ShouldContain(e => e.EventId.Id == 20 && e.Exception is InvalidOperationException);
    }

    [Fact]
    public async Task Accounting_EnqueuedEqualsExportedPlusDropsAfterEnqueue_AndQueueFullIsNotCountedAsEnqueued()
    {
        var pipeline = Create(o =>
        {
            o.FlushAt = 2;
            o.MaxQueueSize = 4;
        });
        _exporter.RejectWhere(item => item.StartsWith("bad", StringComparison.Ordinal));
        _exporter.Block();
        pipeline.TryEnqueue(Item("item-0"), 10).ShouldBeTrue();
        pipeline.TryEnqueue(Item("bad-1"), 10).ShouldBeTrue();
        await _exporter.WaitForStartedAsync(1);
        var offered = new[] { "item-2", "bad-3", "item-4", "item-5", "full-6", "full-7" };
        var accepted = offered.Count(item => pipeline.TryEnqueue(Item(item), 10));
        _exporter.Release();

        (await pipeline.FlushAsync(TimeSpan.FromSeconds(10)).WaitAsync(RealTimeGuard)).Completed.ShouldBeTrue();

        accepted.ShouldBe(4);
        var stats = _metrics.Snapshot();
        stats.Enqueued.ShouldBe(6);
        stats.Exported.ShouldBe(4);
        stats.Dropped[DropReason.Rejected].ShouldBe(2);
        stats.Dropped[DropReason.QueueFull].ShouldBe(2);
        AssertAccounting(enqueued: 6);
    }

    [Fact]
    public async Task Accounting_WhenItemsArriveAfterShutdown_TheIdentityStillHolds()
    {
        // LangfuseStatistics promises Enqueued == Exported + drops after enqueue (every reason but QueueFull and
        // SampledOut). An item offered after shutdown is accepted and dropped at once: it counts on both sides.
        var pipeline = Create();
        EnqueueItems(pipeline, 2);
        (await pipeline.ShutdownAsync(TimeSpan.FromSeconds(5)).WaitAsync(RealTimeGuard)).Completed.ShouldBeTrue();

        pipeline.TryEnqueue(Item("late"), 10).ShouldBeFalse();

        _metrics.Snapshot().Dropped[DropReason.Shutdown].ShouldBe(1);
        AssertAccounting(enqueued: 3);
    }

    private ExportPipeline Create(Action<LangfuseOptions>? configure = null)
    {
        var options = new LangfuseOptions { FlushAt = 10, FlushInterval = TimeSpan.FromSeconds(5) };
        configure?.Invoke(options);
        var pipeline = new ExportPipeline(options, _exporter, _metrics, _logs.CreateLogger("test"), _time, shutdownSignal: null, probe: _idle);
        _pipelines.Add(pipeline);
        return pipeline;
    }

    private static void EnqueueItems(ExportPipeline pipeline, int count, int bytes = 10)
    {
        for (var i = 0; i < count; i++)
        {
            pipeline.TryEnqueue(Item($"item-{i}"), bytes).ShouldBeTrue();
        }
    }

    private void AssertAccounting(long enqueued)
    {
        var stats = _metrics.Snapshot();
        stats.Enqueued.ShouldBe(enqueued, stats.ToString());
        stats.ShouldBeBalanced();
    }

    /// <summary>A typed queue item named <paramref name="name"/> (a score whose id is the name), for these tests.</summary>
    private static ExportItem Item(string name) => new(new LangfuseScore(name, name, 1, DateTimeOffset.UnixEpoch));

    /// <summary>
    /// Records every batch, counts its items through <see cref="LangfuseMetrics"/> as the real exporter does, and
    /// can be held (optionally ignoring cancellation), made to throw, or made to reject some items.
    /// </summary>
    private sealed class RecordingExporter(LangfuseMetrics metrics) : IBatchExporter
    {
        private readonly Lock _lock = new();
        private readonly List<IReadOnlyList<string>> _batches = [];
        private TaskCompletionSource _gate = Completed();
        private TaskCompletionSource _changed = NewSignal();
        private int _started;
        private bool _ignoreCancellation;
        private string? _poison;
        private Func<string, bool> _reject = static _ => false;
        private Func<string, bool> _keep = static _ => false;

        public IReadOnlyList<IReadOnlyList<string>> Batches
        {
            get
            {
                lock (_lock)
                {
                    return [.. _batches];
                }
            }
        }

        public IReadOnlyList<string> Items => [.. Batches.SelectMany(static b => b)];

        public void Block(bool ignoreCancellation = false)
        {
            lock (_lock)
            {
                _gate = NewSignal();
                _ignoreCancellation = ignoreCancellation;
            }
        }

        public void Release()
        {
            lock (_lock)
            {
                _gate.TrySetResult();
            }
        }

        public void ThrowOn(string item) => _poison = item;

        public void RejectWhere(Func<string, bool> predicate) => _reject = predicate;

        /// <summary>These items "fail" and are written to disk, counted as spilled as the real exporter does.</summary>
        public void KeepOnDiskWhere(Func<string, bool> predicate) => _keep = predicate;

        public Task WaitForBatchesAsync(int count) => WaitAsync(() => _batches.Count >= count, $"{count} batch(es)");

        public Task WaitForStartedAsync(int count) => WaitAsync(() => _started >= count, $"{count} export call(s)");

        /// <summary>Items shutdown handed over to keep: this fake has no buffer, so they are dropped as told.</summary>
        public List<string> Persisted { get; } = [];

        public void Persist(IReadOnlyList<ExportItem> batch, DropReason reasonWithoutBuffer)
        {
            lock (Persisted)
            {
                Persisted.AddRange(batch.Select(static i => i.Score!.Id));
            }

            metrics.Dropped(reasonWithoutBuffer, batch.Count);
        }

        public async Task ExportAsync(IReadOnlyList<ExportItem> batch, CancellationToken cancellationToken)
        {
            var items = batch.Select(static i => i.Score!.Id).ToList(); // the pipeline reuses its list once this returns
            Task gate;
            bool ignoreCancellation;
            lock (_lock)
            {
                _started++;
                gate = _gate.Task;
                ignoreCancellation = _ignoreCancellation;
            }

            Signal();
            if (_poison is not null && items.Contains(_poison))
            {
                throw new InvalidOperationException("poisoned batch");
            }

            try
            {
                await (ignoreCancellation ? gate : gate.WaitAsync(cancellationToken));
            }
            catch (OperationCanceledException)
            {
                metrics.Dropped(DropReason.Shutdown, items.Count);
                return;
            }

            var rejected = items.Count(_reject);
            var kept = items.Count(i => !_reject(i) && _keep(i));
            metrics.Dropped(DropReason.Rejected, rejected);
            metrics.Spilled(kept);
            metrics.Exported(items.Count - rejected - kept);
            lock (_lock)
            {
                _batches.Add([.. items.Where(i => !_reject(i) && !_keep(i))]);
            }

            Signal();
        }

        private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

        private static TaskCompletionSource Completed()
        {
            var done = NewSignal();
            done.SetResult();
            return done;
        }

        private void Signal()
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                changed = _changed;
                _changed = NewSignal();
            }

            changed.TrySetResult();
        }

        private async Task WaitAsync(Func<bool> condition, string description)
        {
            using var cts = new CancellationTokenSource(RealTimeGuard);
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    if (condition())
                    {
                        return;
                    }

                    changed = _changed.Task;
                }

                try
                {
                    await changed.WaitAsync(cts.Token);
                }
                catch (OperationCanceledException) when (cts.IsCancellationRequested)
                {
                    throw new TimeoutException($"Waited {RealTimeGuard} for {description}; got {Batches.Count} batch(es), {_started} call(s).");
                }
            }
        }
    }
}
