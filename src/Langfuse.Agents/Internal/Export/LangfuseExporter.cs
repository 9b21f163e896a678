using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Http;
using Langfuse.Agents.Internal.Pipeline;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace Langfuse.Agents.Internal.Export;

/// <summary>
/// Delivers one batch: prepares items (mask, serialize, shrink), encodes them (OTLP protobuf for observations by
/// default, batch JSON for scores and for the legacy protocol), sends them through the resilient sender, and reads
/// the answer: 404 on OTLP switches to the legacy protocol once; 413 splits the request in halves; a 207 is read per
/// event (per-event 5xx/429 retried with backoff, per-event 4xx counted and logged).
/// What cannot be delivered now (retries exhausted, circuit open, shutdown during an outage, 401/403) goes to the
/// on-disk buffer when there is one, as the exact request bytes, and is dropped and counted otherwise.
/// Every item ends up counted as exported, buffered or dropped by reason.
/// </summary>
internal sealed class LangfuseExporter : IBatchExporter, IDisposable
{
    private const int MaxLoggedRejections = 3;

    private readonly ILangfuseApi _api;
    private readonly ObservationPreparer _preparer;
    private readonly ResilientSender _sender;
    private readonly OtlpTraceEncoder _otlp;
    private readonly LegacyBatchEncoder _legacy;
    private readonly LangfuseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly IDurableQueue? _durable;
    private readonly DeliveryGate? _gate;
    private readonly Action? _onSpilled; // wakes the forwarder
    private readonly bool _writeAhead;
    private readonly int _maxRequestBytes;
    private readonly int _maxRetries;
    private volatile bool _useLegacy;
    private int _spillReported;

    public LangfuseExporter(
        ILangfuseApi api,
        LangfuseOptions options,
        ObservationPreparer preparer,
        ResilientSender sender,
        OtlpResourceInfo resource,
        LangfuseMetrics metrics,
        ILogger logger,
        TimeProvider? timeProvider = null,
        IDurableQueue? durable = null,
        DeliveryGate? gate = null,
        Action? onSpilled = null)
    {
        _api = api;
        _preparer = preparer;
        _sender = sender;
        _otlp = new OtlpTraceEncoder(resource);
        _legacy = new LegacyBatchEncoder(resource.SdkVersion);
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _durable = durable;
        _gate = gate;
        _onSpilled = onSpilled;
        _writeAhead = options.BufferWriteAhead && durable is { IsAvailable: true };
        _maxRequestBytes = options.MaxRequestBytes;
        _maxRetries = options.MaxRetries;
        _useLegacy = options.IngestionProtocol == IngestionProtocol.Legacy;
    }

    /// <summary>True once observations go as batch events (configured, or after the OTLP endpoint answered 404).</summary>
    public bool UsesLegacyProtocol => _useLegacy;

    public async Task ExportAsync(IReadOnlyList<ExportItem> batch, CancellationToken cancellationToken)
    {
        var (observations, scores) = Prepare(batch);
        if (_writeAhead || _gate?.IsPaused == true)
        {
            // Write-ahead: everything goes through the disk and the forwarder sends it. Paused (401/403): nothing is
            // sent until the pause ends, so the batch waits on disk instead of feeding a retry storm.
            Persist(observations, scores, _writeAhead ? "write-ahead" : "sending is paused", DropReason.Rejected);
            return;
        }

        if (observations.Count > 0 && !_useLegacy)
        {
            await SendOtlpAsync(observations, cancellationToken).ConfigureAwait(false);
            observations.Clear(); // sent, buffered, or handed to the legacy path on fallback
        }

        if (observations.Count > 0 || scores.Count > 0)
        {
            await SendLegacyAsync(observations, scores, round: 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes items straight to the on-disk buffer without trying to send them (shutdown ran out of time). Counted
    /// as buffered, or dropped as <paramref name="reasonWithoutBuffer"/> when there is no buffer.
    /// </summary>
    public void Persist(IReadOnlyList<ExportItem> batch, DropReason reasonWithoutBuffer)
    {
        var (observations, scores) = Prepare(batch);
        Persist(observations, scores, "shutdown", reasonWithoutBuffer);
    }

    public void Dispose()
    {
        _otlp.Dispose();
        _legacy.Dispose();
    }

    private (List<PreparedObservation> Observations, List<PreparedScore> Scores) Prepare(IReadOnlyList<ExportItem> batch)
    {
        var observations = new List<PreparedObservation>(batch.Count);
        var scores = new List<PreparedScore>();
        foreach (var item in batch)
        {
            try
            {
                if (item.Observation is not null)
                {
                    // With the trace attributes it carried when it ended, not the trace's attributes now.
                    if (_preparer.Prepare(item.Completed) is { } prepared)
                    {
                        observations.Add(prepared);
                    }
                    else
                    {
                        _metrics.Dropped(DropReason.TooLarge);
                    }
                }
                else if (item.Score is { } score)
                {
                    scores.Add(_preparer.Prepare(score));
                }
                else
                {
                    _metrics.Dropped(DropReason.Rejected);
                }
            }
            catch (Exception ex)
            {
                // Preparing never throws by design (serializer and mask failures are caught inside); count it anyway.
                Log.LoopError(_logger, ex);
                _metrics.Dropped(DropReason.Rejected);
            }
        }

        return (observations, scores);
    }

    /// <summary>Encodes prepared items and appends them to the buffer as request bodies, without sending.</summary>
    private void Persist(List<PreparedObservation> observations, List<PreparedScore> scores, string why, DropReason reasonWithoutBuffer)
    {
        if (observations.Count > 0 && !_useLegacy)
        {
            var start = 0;
            while (start < observations.Count)
            {
                var body = _otlp.EncodeUpTo(observations, start, _maxRequestBytes, out var count);
                Undeliverable(PayloadKind.OtlpTraces, body, count, reasonWithoutBuffer, why, keep: true);
                start += count;
            }

            observations = [];
        }

        if (observations.Count > 0 || scores.Count > 0)
        {
            foreach (var request in _legacy.Encode(observations, scores, _timeProvider.GetUtcNow(), _maxRequestBytes))
            {
                Undeliverable(PayloadKind.IngestionBatch, request.Body, CountItems(request), reasonWithoutBuffer, why, keep: true);
            }
        }
    }

    private async Task SendOtlpAsync(List<PreparedObservation> items, CancellationToken cancellationToken)
    {
        var start = 0;
        while (start < items.Count)
        {
            var body = _otlp.EncodeUpTo(items, start, _maxRequestBytes, out var count);
            if (await SendOtlpRangeAsync(items, start, count, body, cancellationToken).ConfigureAwait(false) == OtlpOutcome.UseLegacy)
            {
                await SendLegacyAsync(items.GetRange(start, items.Count - start), [], round: 0, cancellationToken).ConfigureAwait(false);
                return;
            }

            start += count;
        }
    }

    private async Task<OtlpOutcome> SendOtlpRangeAsync(List<PreparedObservation> items, int start, int count, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var (response, failure, detail) = await SendAsync(token => _api.PostOtlpTracesAsync(body, token), count, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            Undeliverable(PayloadKind.OtlpTraces, body, count, failure, detail);
            return OtlpOutcome.Done;
        }

        if (response.IsSuccess)
        {
            _metrics.Exported(count);
            return OtlpOutcome.Done;
        }

        switch (response.StatusCode)
        {
            case 404:
                if (!_useLegacy)
                {
                    _useLegacy = true;
                    Log.FallingBackToLegacy(_logger);
                }

                return OtlpOutcome.UseLegacy;
            case 413 when count == 1:
                Log.SingleItemTooLarge(_logger, 413);
                _metrics.Dropped(DropReason.TooLarge);
                return OtlpOutcome.Done;
            case 413:
                var half = count / 2;
                var first = await SendOtlpRangeAsync(items, start, half, _otlp.Encode(items, start, half), cancellationToken).ConfigureAwait(false);
                if (first == OtlpOutcome.UseLegacy)
                {
                    return first;
                }

                return await SendOtlpRangeAsync(items, start + half, count - half, _otlp.Encode(items, start + half, count - half), cancellationToken).ConfigureAwait(false);
            default:
                Failed(PayloadKind.OtlpTraces, body, count, response);
                return OtlpOutcome.Done;
        }
    }

    private async Task SendLegacyAsync(List<PreparedObservation> observations, List<PreparedScore> scores, int round, CancellationToken cancellationToken)
    {
        var requests = _legacy.Encode(observations, scores, _timeProvider.GetUtcNow(), _maxRequestBytes);
        var retryObservations = new List<PreparedObservation>();
        var retryScores = new List<PreparedScore>();
        TimeSpan? retryAfter = null;
        foreach (var request in requests)
        {
            var itemCount = CountItems(request);
            var (response, failure, detail) = await SendAsync(token => _api.PostIngestionAsync(request.Body, token), itemCount, cancellationToken).ConfigureAwait(false);
            if (response is null)
            {
                Undeliverable(PayloadKind.IngestionBatch, request.Body, itemCount, failure, detail);
                continue;
            }

            var answer = DeliveryClassifier.Classify(response, perEventEndpoint: true);
            if (answer == DeliveryVerdict.TooLarge)
            {
                await SplitLegacyAsync(request, observations, scores, round, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (answer is not (DeliveryVerdict.Delivered or DeliveryVerdict.PerEvent))
            {
                Failed(PayloadKind.IngestionBatch, request.Body, itemCount, response);
                continue;
            }

            // A 2xx other than 207 lists no events: all of them were taken. A 207 is read per event, and an event it
            // does not confirm (the answer was unreadable, or silent about it) is resent, never counted as delivered.
            var perEvent = answer == DeliveryVerdict.PerEvent;
            var results = perEvent ? response.Results : null;
            if (perEvent && results is null)
            {
                DeliveryLog.MultiStatusUnreadable(_logger, request.Events.Count);
            }

            var rejected = 0;
            foreach (var sent in request.Events)
            {
                IngestionError? error = null;
                var verdict = perEvent ? DeliveryClassifier.ClassifyEvent(results, sent.EventId, out error) : EventVerdict.Delivered;
                if (verdict == EventVerdict.Delivered)
                {
                    if (sent.Kind != LegacyEventKind.Trace)
                    {
                        _metrics.Exported(1);
                    }

                    continue;
                }

                if (verdict == EventVerdict.RetryLater)
                {
                    if (error?.Status == 429)
                    {
                        retryAfter ??= response.RetryAfter;
                    }

                    switch (sent.Kind)
                    {
                        case LegacyEventKind.Observation: retryObservations.Add(observations[sent.ItemIndex]); break;
                        case LegacyEventKind.Score: retryScores.Add(scores[sent.ItemIndex]); break;
                    }

                    continue;
                }

                if (rejected++ < MaxLoggedRejections)
                {
                    Log.EventsRejected(_logger, 1, error!.Status, $"{sent.Kind.ToString().ToLowerInvariant()} event: {error.Message} {error.ErrorText}".Trim());
                }

                if (sent.Kind != LegacyEventKind.Trace)
                {
                    _metrics.Dropped(DropReason.Rejected);
                }
            }

            if (rejected > MaxLoggedRejections)
            {
                Log.EventsRejected(_logger, rejected - MaxLoggedRejections, 400, "(more rejections in this batch; see above for examples)");
            }
        }

        var retries = retryObservations.Count + retryScores.Count;
        if (retries == 0)
        {
            return;
        }

        if (round >= _maxRetries)
        {
            Persist(retryObservations, retryScores, "per-event server errors persisted after every retry", DropReason.ExportFailed);
            return;
        }

        try
        {
            _metrics.Retried();
            await Task.Delay(_sender.Policy.NextDelay(round, retryAfter), _sender.Waits, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Persist(retryObservations, retryScores, "shutdown", DropReason.Shutdown);
            return;
        }

        await SendLegacyAsync(retryObservations, retryScores, round + 1, cancellationToken).ConfigureAwait(false);
    }

    private async Task SplitLegacyAsync(LegacyBatchRequest request, List<PreparedObservation> observations, List<PreparedScore> scores, int round, CancellationToken cancellationToken)
    {
        var items = request.Events.Where(static e => e.Kind != LegacyEventKind.Trace).ToList();
        if (items.Count <= 1)
        {
            Log.SingleItemTooLarge(_logger, 413);
            _metrics.Dropped(DropReason.TooLarge, items.Count);
            return;
        }

        var half = items.Count / 2;
        foreach (var part in new[] { items.Take(half), items.Skip(half) })
        {
            var partObservations = new List<PreparedObservation>();
            var partScores = new List<PreparedScore>();
            foreach (var sent in part)
            {
                if (sent.Kind == LegacyEventKind.Observation)
                {
                    partObservations.Add(observations[sent.ItemIndex]);
                }
                else
                {
                    partScores.Add(scores[sent.ItemIndex]);
                }
            }

            await SendLegacyAsync(partObservations, partScores, round, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends through the resilient pipeline. Returns the answer, or why there is none: the circuit is open, shutdown's
    /// budget ran out, or the last attempt failed at the network level.
    /// </summary>
    private async Task<(ApiResponse? Response, DropReason Failure, string Detail)> SendAsync(
        Func<CancellationToken, Task<ApiResponse>> send, int itemCount, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _sender.SendAsync(send, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccess)
            {
                _gate?.Succeeded();
                if (Interlocked.Exchange(ref _spillReported, 0) != 0)
                {
                    _onSpilled?.Invoke(); // Langfuse answers again: the forwarder need not wait out its backoff
                }
                Log.Exported(_logger, itemCount);
            }

            return (response, default, string.Empty);
        }
        catch (Exception ex) when (ex is BrokenCircuitException or IsolatedCircuitException)
        {
            return (null, DropReason.CircuitOpen, "the circuit breaker is open after repeated failures");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (null, DropReason.Shutdown, "shutdown budget ran out while sending");
        }
        catch (Exception ex)
        {
            return (null, DropReason.ExportFailed, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>
    /// An answer that is not a success, as <see cref="DeliveryClassifier"/> reads it: a pause (401/403) stops sending and
    /// keeps the data; what time may fix is kept on disk; anything else is dropped.
    /// </summary>
    private void Failed(PayloadKind kind, ReadOnlyMemory<byte> body, int itemCount, ApiResponse response)
    {
        switch (DeliveryClassifier.Classify(response, perEventEndpoint: kind == PayloadKind.IngestionBatch))
        {
            case DeliveryVerdict.Pause when response.StatusCode == 401:
                // Kept on disk only while a gate pauses sending; without one, keeping it would just resend into the 401.
                _gate?.Pause(401, "invalid credentials");
                if (!Undeliverable(kind, body, itemCount, DropReason.Rejected, "HTTP 401", keep: _gate is not null))
                {
                    Log.AuthFailed(_logger, itemCount);
                }

                break;
            case DeliveryVerdict.Pause:
                _gate?.Pause(response.StatusCode, Excerpt(response.Body));
                if (!Undeliverable(kind, body, itemCount, DropReason.Rejected, $"HTTP {response.StatusCode}", keep: _gate is not null))
                {
                    Log.IngestionForbidden(_logger, Excerpt(response.Body), itemCount);
                }

                break;
            case DeliveryVerdict.RetryLater:
                Undeliverable(kind, body, itemCount, DropReason.ExportFailed, $"HTTP {response.StatusCode} after every retry");
                break;
            default:
                Drop(DropReason.Rejected, itemCount, $"HTTP {response.StatusCode}: {Excerpt(response.Body)}");
                break;
        }
    }

    /// <summary>
    /// Keeps what could not be delivered on disk when the failure is one time can fix; drops and counts it otherwise.
    /// Returns true when it was buffered.
    /// </summary>
    private bool Undeliverable(PayloadKind kind, ReadOnlyMemory<byte> body, int itemCount, DropReason reason, string detail, bool keep = false)
    {
        if (itemCount <= 0)
        {
            return true;
        }

        var worthKeeping = keep || reason is DropReason.ExportFailed or DropReason.CircuitOpen or DropReason.Shutdown;
        if (!worthKeeping || _durable is not { IsAvailable: true } durable)
        {
            if (reason == DropReason.Rejected && !keep)
            {
                _metrics.Dropped(reason, itemCount); // 401/403 get their own log line from the caller
            }
            else
            {
                Drop(reason, itemCount, detail);
            }

            return false;
        }

        // Append encodes the bytes into the segment before it returns, so the encoder's buffer need not be copied.
        var outcome = durable.Append([new DurableRecord(kind, itemCount, _timeProvider.GetUtcNow(), body)]);
        switch (outcome)
        {
            case AppendOutcome.Stored:
                _metrics.Spilled(itemCount);
                if (reason is DropReason.ExportFailed or DropReason.CircuitOpen)
                {
                    _sender.Health.Undelivered(itemCount, buffered: true);
                }

                if (Interlocked.Exchange(ref _spillReported, 1) == 0 && detail != "write-ahead")
                {
                    Log.Spilled(_logger, detail, itemCount);
                }

                _onSpilled?.Invoke();
                return true;
            case AppendOutcome.Full:
                Drop(DropReason.BufferFull, itemCount, "the on-disk buffer is full and refuses new batches");
                return false;
            case AppendOutcome.WriteFailed:
                Drop(DropReason.DiskError, itemCount, "writing to the on-disk buffer failed");
                return false;
            default:
                Drop(reason, itemCount, detail);
                return false;
        }
    }

    private void Drop(DropReason reason, int count, string detail)
    {
        if (count <= 0)
        {
            return;
        }

        if (reason is DropReason.ExportFailed or DropReason.CircuitOpen)
        {
            // An outage: its warning and its recovery line (DeliveryHealth) count these; one line per batch would flood.
            _sender.Health.Undelivered(count, buffered: false);
            Log.BatchDroppedDuringOutage(_logger, count, LangfuseMetrics.ReasonName(reason), detail);
        }
        else
        {
            Log.BatchDropped(_logger, count, LangfuseMetrics.ReasonName(reason), detail);
        }

        _metrics.Dropped(reason, count);
    }

    internal static int CountItems(LegacyBatchRequest request)
    {
        var count = 0;
        foreach (var sent in request.Events)
        {
            if (sent.Kind != LegacyEventKind.Trace)
            {
                count++;
            }
        }

        return count;
    }

    private static string Excerpt(string? body) =>
        body is null ? "(no body)" : body.Length <= 300 ? body : body[..300] + "...";

    private enum OtlpOutcome
    {
        Done,
        UseLegacy,
    }
}
