using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Http;
using Langfuse.Agents.Internal.Pipeline;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace Langfuse.Agents.Internal.Export;

/// <summary>
/// Delivers one batch: prepares items (mask, serialize, shrink), encodes them (OTLP protobuf for observations by
/// default, batch JSON for scores and for the legacy protocol), sends them through the resilient sender, and reads
/// the answer: 404 on OTLP switches to the legacy protocol once; 413 splits the request in halves; a 207 is read per
/// event (per-event 5xx/429 retried with backoff, per-event 4xx counted and logged). Every item ends up counted as
/// exported or dropped by reason.
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
    private readonly int _maxRequestBytes;
    private readonly int _maxRetries;
    private volatile bool _useLegacy;

    public LangfuseExporter(
        ILangfuseApi api,
        LangfuseOptions options,
        ObservationPreparer preparer,
        ResilientSender sender,
        OtlpResourceInfo resource,
        LangfuseMetrics metrics,
        ILogger logger,
        TimeProvider? timeProvider = null)
    {
        _api = api;
        _preparer = preparer;
        _sender = sender;
        _otlp = new OtlpTraceEncoder(resource);
        _legacy = new LegacyBatchEncoder(resource.SdkVersion);
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _maxRequestBytes = options.MaxRequestBytes;
        _maxRetries = options.MaxRetries;
        _useLegacy = options.IngestionProtocol == IngestionProtocol.Legacy;
    }

    /// <summary>True once observations go as batch events (configured, or after the OTLP endpoint answered 404).</summary>
    public bool UsesLegacyProtocol => _useLegacy;

    public async Task ExportAsync(IReadOnlyList<object> batch, CancellationToken cancellationToken)
    {
        var observations = new List<PreparedObservation>(batch.Count);
        var scores = new List<PreparedScore>();
        foreach (var item in batch)
        {
            try
            {
                switch (item)
                {
                    case LangfuseObservation observation:
                        if (_preparer.Prepare(observation) is { } prepared)
                        {
                            observations.Add(prepared);
                        }
                        else
                        {
                            _metrics.Dropped(DropReason.TooLarge);
                        }

                        break;
                    case LangfuseScore score:
                        scores.Add(_preparer.Prepare(score));
                        break;
                    default:
                        _metrics.Dropped(DropReason.Rejected);
                        break;
                }
            }
            catch (Exception ex)
            {
                // Preparing never throws by design (serializer and mask failures are caught inside); count it anyway.
                Log.LoopError(_logger, ex);
                _metrics.Dropped(DropReason.Rejected);
            }
        }

        if (observations.Count > 0 && !_useLegacy)
        {
            await SendOtlpAsync(observations, cancellationToken).ConfigureAwait(false);
            observations.Clear(); // sent, or handed to the legacy path on fallback
        }

        if (observations.Count > 0 || scores.Count > 0)
        {
            await SendLegacyAsync(observations, scores, round: 0, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _otlp.Dispose();
        _legacy.Dispose();
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
        var response = await SendAsync(token => _api.PostOtlpTracesAsync(body, token), count, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
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
                DropForStatus(response, count);
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
            var response = await SendAsync(token => _api.PostIngestionAsync(request.Body, token), itemCount, cancellationToken).ConfigureAwait(false);
            if (response is null)
            {
                continue;
            }

            if (response.StatusCode == 413)
            {
                await SplitLegacyAsync(request, observations, scores, round, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (!response.IsSuccess)
            {
                DropForStatus(response, itemCount);
                continue;
            }

            var results = response.Body is null ? null : IngestionResponse.TryParse(System.Text.Encoding.UTF8.GetBytes(response.Body));
            var errors = results?.Errors?.Where(static e => e.Id is not null).GroupBy(static e => e.Id!).ToDictionary(static g => g.Key, static g => g.First())
                ?? [];
            var rejected = 0;
            foreach (var sent in request.Events)
            {
                if (!errors.TryGetValue(sent.EventId, out var error))
                {
                    if (sent.Kind != LegacyEventKind.Trace)
                    {
                        _metrics.Exported(1);
                    }

                    continue;
                }

                if (RetryPolicy.IsRetryableStatus(error.Status))
                {
                    if (error.Status == 429)
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
                    Log.EventsRejected(_logger, 1, error.Status, $"{sent.Kind.ToString().ToLowerInvariant()} event: {error.Message} {error.ErrorText}".Trim());
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
            Log.BatchDropped(_logger, retries, DropReasonName(DropReason.ExportFailed), "per-event server errors persisted after every retry");
            _metrics.Dropped(DropReason.ExportFailed, retries);
            return;
        }

        try
        {
            _metrics.Retried();
            await Task.Delay(_sender.Policy.GetDelay(round, retryAfter, Random.Shared.NextDouble()), _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _metrics.Dropped(DropReason.Shutdown, retries);
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

    /// <summary>Sends through the resilient pipeline; on a failure no answer can fix, counts the items and returns null.</summary>
    private async Task<ApiResponse?> SendAsync(Func<CancellationToken, Task<ApiResponse>> send, int itemCount, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _sender.SendAsync(send, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccess)
            {
                Log.Exported(_logger, itemCount, TimeSpan.Zero);
            }

            return response;
        }
        catch (Exception ex) when (ex is BrokenCircuitException or IsolatedCircuitException)
        {
            Drop(DropReason.CircuitOpen, itemCount, "the circuit breaker is open after repeated failures");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Drop(DropReason.Shutdown, itemCount, "shutdown budget ran out while sending");
        }
        catch (Exception ex)
        {
            Drop(DropReason.ExportFailed, itemCount, $"{ex.GetType().Name}: {ex.Message}");
        }

        return null;
    }

    private void DropForStatus(ApiResponse response, int itemCount)
    {
        if (response.StatusCode == 401)
        {
            Log.AuthFailed(_logger, itemCount);
            _metrics.Dropped(DropReason.Rejected, itemCount);
        }
        else if (response.StatusCode == 403)
        {
            Log.IngestionForbidden(_logger, Excerpt(response.Body), itemCount);
            _metrics.Dropped(DropReason.Rejected, itemCount);
        }
        else if (RetryPolicy.IsRetryableStatus(response.StatusCode))
        {
            Drop(DropReason.ExportFailed, itemCount, $"HTTP {response.StatusCode} after every retry");
        }
        else
        {
            Drop(DropReason.Rejected, itemCount, $"HTTP {response.StatusCode}: {Excerpt(response.Body)}");
        }
    }

    private void Drop(DropReason reason, int count, string detail)
    {
        if (count <= 0)
        {
            return;
        }

        Log.BatchDropped(_logger, count, DropReasonName(reason), detail);
        _metrics.Dropped(reason, count);
    }

    private static int CountItems(LegacyBatchRequest request)
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

    private static string DropReasonName(DropReason reason) => LangfuseMetrics.ReasonName(reason);

    private static string Excerpt(string? body) =>
        body is null ? "(no body)" : body.Length <= 300 ? body : body[..300] + "...";

    private enum OtlpOutcome
    {
        Done,
        UseLegacy,
    }
}
