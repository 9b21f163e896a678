using System.Text.Json.Nodes;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Internal.Http;
using Langfuse.Agents.Internal.Timing;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Delivers what waits in the on-disk buffer, oldest first, back to back while Langfuse answers: a backlog drains as
/// fast as requests complete, beside the live traffic. Stops at the first failure of a segment, keeps the rest of it
/// on disk, and tries again after a backoff (or when the pause after a 401/403 ends). Knows nothing of tracing: the
/// relay reuses it unchanged. Never throws.
/// </summary>
internal sealed class DurableForwarder : IAsyncDisposable
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(30);

    private readonly IDurableQueue _queue;
    private readonly ILangfuseApi _api;
    private readonly ResilientSender _sender;
    private readonly DeliveryGate _gate;
    private readonly LangfuseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Action<DurableRecord, string>? _onRejected;
    private readonly LoopWaiter _waiter;
    private readonly IdleProbe? _probe;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _drainGate = new();
    private List<TaskCompletionSource<bool>> _drainRequests = [];
    private Task? _loop;
    private int _failures;

    public DurableForwarder(
        IDurableQueue queue,
        ILangfuseApi api,
        ResilientSender sender,
        DeliveryGate gate,
        LangfuseMetrics metrics,
        ILogger logger,
        TimeProvider timeProvider,
        Action<DurableRecord, string>? onRejected = null,
        IdleProbe? probe = null)
    {
        _queue = queue;
        _api = api;
        _sender = sender;
        _gate = gate;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        _onRejected = onRejected;
        _probe = probe;
        _waiter = new LoopWaiter(timeProvider, probe);
    }

    public void Start()
    {
        if (_loop is null)
        {
            _probe?.Started();
            _loop = Task.Run(RunAsync);
        }
    }

    /// <summary>Something was appended, or the upstream looks healthy again: look at the disk now.</summary>
    /// <remarks>
    /// Coalesced: one pending wake is enough, so a caller that wakes on every append (the relay) cannot pile up a
    /// count that would later turn the back-off waits into immediate retries.
    /// </remarks>
    public void Wake() => _waiter.Wake();

    /// <summary>
    /// Delivers what is on disk now, within <paramref name="timeout"/>. True when the buffer was emptied (of what this
    /// process may replay) in time.
    /// </summary>
    public async Task<bool> DrainAsync(TimeSpan timeout)
    {
        if (_loop is null || _loop.IsCompleted)
        {
            return false;
        }

        var request = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_drainGate)
        {
            _drainRequests.Add(request);
        }

        Wake();
        try
        {
            return await request.Task.WaitAsync(timeout, _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // A send stuck past its cancellation; the segment stays on disk for the next run.
            }
        }

        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
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
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var pause = _gate.RemainingPause;
                if (pause > TimeSpan.Zero)
                {
                    await WaitAsync(pause).ConfigureAwait(false);
                    continue;
                }

                var outcome = await ForwardOneSegmentAsync().ConfigureAwait(false);
                switch (outcome)
                {
                    case SegmentOutcome.Delivered:
                        _failures = 0;
                        continue; // back to back: drain the backlog as fast as Langfuse answers
                    case SegmentOutcome.Empty:
                        _failures = 0;
                        AnswerDrains(true);
                        await WaitAsync(IdlePoll).ConfigureAwait(false);
                        break;
                    case SegmentOutcome.Failed:
                        AnswerDrains(false);
                        var delay = _sender.Policy.GetDelay(_failures++, null, 0.5 + (Random.Shared.NextDouble() / 2));
                        await WaitAsync(delay < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : delay).ConfigureAwait(false);
                        break;
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Log.LoopError(_logger, ex);
                await WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            }
        }

        AnswerDrains(false);
    }

    private async Task<SegmentOutcome> ForwardOneSegmentAsync()
    {
        if (!_queue.TryTakeOldest(out var segment) || segment is null)
        {
            return SegmentOutcome.Empty;
        }

        var remaining = new List<DurableRecord>();
        var failed = false;
        long delivered = 0;
        foreach (var record in segment.Records)
        {
            if (failed)
            {
                remaining.Add(record);
                continue;
            }

            var (outcome, remainder) = await DeliverAsync(record).ConfigureAwait(false);
            if (outcome == RecordOutcome.Delivered)
            {
                delivered += record.ItemCount;
            }

            if (remainder is not null)
            {
                // Keep it, and the rest of the segment, for the next attempt: order is preserved.
                remaining.Add(remainder);
                failed = true;
            }
        }

        if (remaining.Count == 0)
        {
            _queue.Complete(segment);
        }
        else if (remaining.Count == segment.Records.Count && ReferenceEquals(remaining[0], segment.Records[0]))
        {
            _queue.Release(segment);
        }
        else
        {
            _queue.Replace(segment, remaining);
        }

        if (delivered > 0)
        {
            Log.Replayed(_logger, delivered);
        }

        return failed ? SegmentOutcome.Failed : SegmentOutcome.Delivered;
    }

    /// <summary>
    /// Sends one record. Returns what happened and what is left of it to keep on disk (null when nothing is: all
    /// delivered, or dropped and counted).
    /// </summary>
    private async Task<(RecordOutcome Outcome, DurableRecord? Remainder)> DeliverAsync(DurableRecord record)
    {
        ApiResponse response;
        try
        {
            response = await _sender.SendAsync(
                token => record.Kind == PayloadKind.OtlpTraces
                    ? _api.PostOtlpTracesAsync(record.Payload, token, record.ContentType, record.ContentEncoding)
                    : _api.PostIngestionAsync(record.Payload, token, record.ContentEncoding),
                _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BrokenCircuitException or IsolatedCircuitException or OperationCanceledException)
        {
            return (RecordOutcome.RetryLater, record);
        }
        catch (Exception)
        {
            return (RecordOutcome.RetryLater, record); // network failure after every retry
        }

        if (response.IsSuccess)
        {
            _gate.Succeeded();
            if (record.Kind == PayloadKind.IngestionBatch && response.StatusCode == 207)
            {
                return Settle207(record, response);
            }

            _metrics.Exported(record.ItemCount);
            return (RecordOutcome.Delivered, null);
        }

        switch (response.StatusCode)
        {
            case 401 or 403:
                _gate.Pause(response.StatusCode, response.StatusCode == 401 ? "invalid credentials" : response.Body);
                return (RecordOutcome.Paused, record);
            case var status when RetryPolicy.IsRetryableStatus(status):
                return (RecordOutcome.RetryLater, record);
            default:
                // 400, 404, 413: the server will never take these bytes.
                Log.BatchDropped(_logger, record.ItemCount, LangfuseMetrics.ReasonName(DropReason.Rejected), $"buffered request answered HTTP {response.StatusCode}");
                _metrics.Dropped(DropReason.Rejected, record.ItemCount);
                ReportRejected(record, $"HTTP {response.StatusCode}: {response.Body}");
                return (RecordOutcome.Delivered, null);
        }
    }

    /// <summary>
    /// Reads a 207 per event: accepted events are exported, per-event 4xx dropped as rejected, per-event 5xx/429 kept
    /// on disk as a smaller batch with only those events (same envelope ids, so Langfuse deduplicates).
    /// </summary>
    private (RecordOutcome Outcome, DurableRecord? Remainder) Settle207(DurableRecord record, ApiResponse response)
    {
        var results = IngestionResponse.TryParse(response.Body);
        JsonObject? body = null;
        try
        {
            body = JsonNode.Parse(record.Payload.Span) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            // Not ours to fix: count the record as delivered, the server accepted the request.
        }

        if (results is null || body?["batch"] is not JsonArray batch)
        {
            _metrics.Exported(record.ItemCount);
            return (RecordOutcome.Delivered, null);
        }

        var errors = results.Errors!.Where(static e => e.Id is not null).GroupBy(static e => e.Id!).ToDictionary(static g => g.Key, static g => g.First());
        var retry = new JsonArray();
        int exported = 0, rejected = 0, retried = 0;
        foreach (var node in batch.ToList())
        {
            var id = node?["id"]?.GetValue<string>();
            var isItem = node?["type"]?.GetValue<string>() is not "trace-create";
            if (id is null || !errors.TryGetValue(id, out var error))
            {
                exported += isItem ? 1 : 0;
                continue;
            }

            if (RetryPolicy.IsRetryableStatus(error.Status))
            {
                batch.Remove(node);
                retry.Add(node);
                retried += isItem ? 1 : 0;
            }
            else
            {
                rejected += isItem ? 1 : 0;
                if (_onRejected is not null)
                {
                    var single = new JsonObject { ["batch"] = new JsonArray(node!.DeepClone()) };
                    ReportRejected(
                        record with { ItemCount = 1, Payload = System.Text.Encoding.UTF8.GetBytes(single.ToJsonString()), ContentEncoding = null }, // one event
                        $"HTTP {error.Status}: {error.Message}{(string.IsNullOrEmpty(error.ErrorText) ? string.Empty : ": " + error.ErrorText)}");
                }
            }
        }

        // Item counts come from the record (the encoder's count); events are the authority only where they disagree.
        var unaccounted = record.ItemCount - exported - rejected - retried;
        _metrics.Exported(exported + Math.Max(0, unaccounted));
        _metrics.Dropped(DropReason.Rejected, rejected);
        if (retry.Count == 0)
        {
            return (RecordOutcome.Delivered, null);
        }

        var rest = new JsonObject { ["batch"] = retry };
        if (body["metadata"] is JsonNode metadata)
        {
            rest["metadata"] = metadata.DeepClone();
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(rest.ToJsonString());
        return (RecordOutcome.RetryLater, record with { ItemCount = retried, Payload = bytes, ContentEncoding = null });
    }

    /// <summary>Hands what Langfuse will never take to the owner (the relay's dead-letter file); never throws.</summary>
    private void ReportRejected(DurableRecord record, string reason)
    {
        if (_onRejected is null)
        {
            return;
        }

        try
        {
            _onRejected(record, reason);
        }
        catch (Exception ex)
        {
            Log.LoopError(_logger, ex);
        }
    }

    private async Task WaitAsync(TimeSpan timeout)
    {
        await _waiter.WaitAsync(timeout, _stopping.Token).ConfigureAwait(false);
        _stopping.Token.ThrowIfCancellationRequested();
    }

    private void AnswerDrains(bool emptied)
    {
        List<TaskCompletionSource<bool>> requests;
        lock (_drainGate)
        {
            if (_drainRequests.Count == 0)
            {
                return;
            }

            requests = _drainRequests;
            _drainRequests = [];
        }

        foreach (var request in requests)
        {
            request.TrySetResult(emptied);
        }
    }

    private enum SegmentOutcome
    {
        Empty,
        Delivered,
        Failed,
    }

    private enum RecordOutcome
    {
        Delivered,
        RetryLater,
        Paused,
    }
}
