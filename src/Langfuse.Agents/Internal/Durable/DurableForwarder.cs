using System.Net.Http.Headers;
using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Internal.Http;
using Langfuse.Agents.Internal.Timing;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Delivers what waits in the on-disk buffer, oldest first, back to back while Langfuse answers: a backlog drains as
/// fast as requests complete, beside the live traffic. Each round takes many segments and merges consecutive records
/// of one kind into few upstream requests (OTLP protobuf bodies concatenate into one valid request; OTLP/JSON and batch
/// bodies merge by splicing their arrays from the original bytes), within <see cref="ForwarderLimits"/>.
/// Every record is settled on its own (<see cref="DeliveryClassifier"/> decides): delivered; given up because Langfuse
/// will never take it (counted, reported through <c>onRejected</c>: the relay's dead-letter file); set aside because it
/// can never be sent (quarantined: counted and reported, so it cannot block what is behind it); split on 413 until the
/// parts fit; or kept on disk for a transient failure, which ends the round and backs off (or waits out the pause after
/// a 401/403). Knows nothing of tracing: the relay reuses it unchanged. Never throws.
/// </summary>
internal sealed class DurableForwarder : IAsyncDisposable
{
    private const string ProtobufContentType = "application/x-protobuf";
    private const string JsonContentType = "application/json";
    private const string MergeIngestion = "ingestion";
    private const string MergeOtlpProtobuf = "otlp-protobuf";
    private const string MergeOtlpJson = "otlp-json";
    private const int MaxLoggedPerRound = 3;

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
    private readonly ForwarderLimits _limits;
    private readonly Func<IReadOnlyList<ReadOnlyMemory<byte>>, byte[]?>? _translateLegacy;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _drainGate = new();
    private List<TaskCompletionSource<bool>> _drainRequests = [];
    private Task? _loop;
    private int _failures;
    private RoundStats _summary = new();
    private DateTimeOffset? _summaryStart;

    public DurableForwarder(
        IDurableQueue queue,
        ILangfuseApi api,
        ResilientSender sender,
        DeliveryGate gate,
        LangfuseMetrics metrics,
        ILogger logger,
        TimeProvider timeProvider,
        Action<DurableRecord, string>? onRejected = null,
        IdleProbe? probe = null,
        ForwarderLimits? limits = null,
        Func<IReadOnlyList<ReadOnlyMemory<byte>>, byte[]?>? translateLegacy = null)
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
        _limits = limits ?? new ForwarderLimits();
        _translateLegacy = translateLegacy;
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

        FlushSummary(_timeProvider.GetUtcNow());
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

                // Only a round that started after a drain was asked for may answer it: one already under way when
                // the caller healed the upstream (or appended) would answer for the past.
                var eligible = TakeDrainRequests();
                SegmentOutcome outcome;
                try
                {
                    outcome = await ForwardRoundAsync().ConfigureAwait(false);
                }
                catch
                {
                    ReturnDrainRequests(eligible);
                    throw;
                }

                switch (outcome)
                {
                    case SegmentOutcome.Delivered:
                        _failures = 0;
                        ReturnDrainRequests(eligible); // progress, not yet empty: a later round answers
                        continue; // back to back: drain the backlog as fast as Langfuse answers
                    case SegmentOutcome.Empty:
                        _failures = 0;
                        Answer(eligible, true);
                        await WaitAsync(IdlePoll).ConfigureAwait(false);
                        break;
                    case SegmentOutcome.Paused:
                        Answer(eligible, false);
                        continue; // the loop's top waits out the pause
                    case SegmentOutcome.Failed:
                        Answer(eligible, false);
                        await WaitAsync(_sender.Policy.NextRoundDelay(_failures++)).ConfigureAwait(false);
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

    /// <summary>
    /// One round: takes the oldest segments (up to <see cref="ForwarderLimits.MaxSegmentsPerRound"/>), sends their
    /// records oldest first, merging consecutive compatible records into as few requests as the limits allow, settles
    /// every record on its own, and writes back only what is still to send. A transient failure ends the round: what
    /// was not sent stays on disk, in order.
    /// </summary>
    private async Task<SegmentOutcome> ForwardRoundAsync()
    {
        var taken = TakeSegments();
        if (taken.Count == 0)
        {
            return SegmentOutcome.Empty;
        }

        var round = new RoundStats();
        var stop = false;
        var paused = false;
        try
        {
            var pieces = new List<Piece>();
            foreach (var segment in taken)
            {
                foreach (var slot in segment.Slots)
                {
                    if (Prepare(slot, round) is { } piece)
                    {
                        pieces.Add(piece);
                    }
                }
            }

            var next = 0;
            while (next < pieces.Count && !stop)
            {
                // The exporter may have been answered 401/403 after this loop last looked: it pauses the gate before
                // it writes the batch to disk and wakes this loop, so the segment it wrote can be in this round. Look
                // again before every request, so a pause sends nothing more (the rest is kept as it is).
                if (_gate.IsPaused)
                {
                    paused = stop = true;
                    break;
                }

                var group = NextGroup(pieces, ref next);
                stop = await DeliverAsync(group, round).ConfigureAwait(false);
                if (!stop)
                {
                    RecordProgress(taken);
                }
            }

            for (; next < pieces.Count; next++)
            {
                Keep(pieces[next]);
            }
        }
        finally
        {
            // Whatever happened, every taken segment goes back to the queue: settled records removed, the rest kept.
            foreach (var segment in taken)
            {
                if (!segment.Done)
                {
                    Settle(segment);
                }
            }
        }

        if (round.Exported > 0 || round.Rejected > 0 || round.Quarantined > 0)
        {
            DeliveryLog.ForwardedRound(_logger, round.Exported, taken.Count, round.Requests);
        }

        Summarize(round);
        return paused ? SegmentOutcome.Paused : stop ? SegmentOutcome.Failed : SegmentOutcome.Delivered;
    }

    private List<TakenSegment> TakeSegments()
    {
        var taken = new List<TakenSegment>();
        foreach (var segment in _queue.TakeOldest(_limits.MaxSegmentsPerRound, _limits.MaxRoundBytes))
        {
            var slots = new List<Slot>(segment.Records.Count);
            foreach (var record in segment.Records)
            {
                slots.Add(new Slot(record));
            }

            taken.Add(new TakenSegment(segment, slots));
        }

        return taken;
    }

    /// <summary>
    /// After an upstream request: every segment all of whose records are now settled goes back to the queue at once
    /// (deleted when nothing is left of it), and a segment partly delivered is rewritten with what is still to send
    /// (it stays taken). So a kill re-sends at most the request that was in flight, not the whole round.
    /// </summary>
    private void RecordProgress(List<TakenSegment> taken)
    {
        foreach (var segment in taken)
        {
            if (segment.Done)
            {
                continue;
            }

            var reached = 0;
            foreach (var slot in segment.Slots)
            {
                reached += slot.Keep is null ? 0 : 1;
            }

            if (reached == segment.Slots.Count)
            {
                Settle(segment);
            }
            else if (reached > segment.ReachedOnDisk)
            {
                var (remaining, unchanged) = Remaining(segment);
                if (!unchanged)
                {
                    _queue.Checkpoint(segment.Segment, remaining);
                    segment.ReachedOnDisk = reached;
                }
            }
        }
    }

    /// <summary>Puts a taken segment back: deleted when nothing is left of it, released when all of it is, rewritten otherwise.</summary>
    private void Settle(TakenSegment taken)
    {
        taken.Done = true;
        var (remaining, unchanged) = Remaining(taken);
        if (remaining.Count == 0)
        {
            _queue.Complete(taken.Segment);
        }
        else if (unchanged)
        {
            _queue.Release(taken.Segment);
        }
        else
        {
            _queue.Replace(taken.Segment, remaining);
        }
    }

    /// <summary>What goes back to disk for a taken segment, and whether that is exactly what was taken.</summary>
    private static (List<DurableRecord> Remaining, bool Unchanged) Remaining(TakenSegment taken)
    {
        var remaining = new List<DurableRecord>();
        var unchanged = true;
        foreach (var slot in taken.Slots)
        {
            var keep = slot.Keep ?? [slot.Original]; // not reached: kept as it is
            unchanged &= keep.Count == 1 && ReferenceEquals(keep[0], slot.Original);
            remaining.AddRange(keep);
        }

        return (remaining, unchanged);
    }

    /// <summary>
    /// Reads a record as the forwarder will send it: the content type Langfuse would read (it accepts any type that
    /// contains <c>application/x-protobuf</c> or <c>application/json</c>, which <see cref="HttpClient"/> may not parse),
    /// a gzip batch inflated (so it can be merged, settled and split), the events of a batch and the resource spans of
    /// OTLP/JSON located. A record that can never be sent is set aside here (quarantined) and the ones behind it go on.
    /// </summary>
    private Piece? Prepare(Slot slot, RoundStats round)
    {
        var record = slot.Original;
        try
        {
            var encoding = NormalizeEncoding(record.ContentEncoding);
            if (record.Kind == PayloadKind.IngestionBatch)
            {
                if (encoding is not (null or "gzip"))
                {
                    Quarantine(slot, record, $"content encoding '{record.ContentEncoding}' is not one Langfuse reads", round);
                    return null;
                }

                var body = record.Payload;
                if (encoding == "gzip")
                {
                    if (Gzip.TryDecode(body.Span, _limits.MaxDecodedBytes) is not { } decoded)
                    {
                        Quarantine(slot, record, "the body is not valid gzip, or inflates beyond the limit", round);
                        return null;
                    }

                    body = decoded;
                }

                if (IngestionBatch.TryRead(body, record.ItemCount) is not { } batch)
                {
                    Quarantine(slot, record, "the body is not a batch JSON object ({\"batch\":[...]})", round);
                    return null;
                }

                var sent = encoding is null ? record : record with { Payload = body, ContentEncoding = null };
                return new Piece(slot, sent, IsWhole: true) { Batch = batch, MergeKey = MergeIngestion };
            }

            var contentType = NormalizeOtlpContentType(record.ContentType, out var json);
            if (contentType is null)
            {
                Quarantine(slot, record, $"content type '{record.ContentType}' is neither application/x-protobuf nor application/json", round);
                return null;
            }

            var otlp = ReferenceEquals(contentType, record.ContentType) ? record : record with { ContentType = contentType };
            var piece = new Piece(slot, otlp, IsWhole: true) { Json = json };
            if (encoding is null && json)
            {
                if (OtlpSplitter.TryGetResourceSpans(otlp.Payload, out var array, out var elements))
                {
                    piece.ResourceSpans = elements;
                    piece.JsonArray = array;
                    piece.MergeKey = MergeOtlpJson;
                }
            }
            else if (encoding is null)
            {
                piece.MergeKey = MergeOtlpProtobuf; // concatenated requests are one valid request
            }

            return piece;
        }
#pragma warning disable CA1031 // Any surprise settles only this record.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Quarantine(slot, record, $"{ex.GetType().Name} while reading it", round);
            return null;
        }
    }

    private List<Piece> NextGroup(List<Piece> pieces, ref int next)
    {
        var first = pieces[next++];
        var group = new List<Piece> { first };
        if (first.MergeKey is null)
        {
            return group;
        }

        long bytes = first.Record.Payload.Length;
        while (next < pieces.Count &&
               group.Count < _limits.MaxRecordsPerRequest &&
               pieces[next].MergeKey == first.MergeKey &&
               bytes + pieces[next].Record.Payload.Length <= _limits.MaxMergedRequestBytes)
        {
            bytes += pieces[next].Record.Payload.Length;
            group.Add(pieces[next++]);
        }

        return group;
    }

    /// <summary>
    /// Sends <paramref name="group"/> as one request and settles each of its records. A request Langfuse refuses as a
    /// whole (413, or a rejection that one bad record in a merged request may have caused) is bisected by record, and a
    /// single record answered 413 is split by its events or spans, until the parts fit; a single item still too large
    /// is given up (counted, reported). True when a transient failure ended the round (everything not settled is kept).
    /// </summary>
    private async Task<bool> DeliverAsync(IReadOnlyList<Piece> group, RoundStats round)
    {
        ApiResponse? response = null;
        DeliveryVerdict verdict;
        string? failure = null;
        try
        {
            var (body, contentType, encoding) = Build(group);
            round.Requests++;
            response = await _sender.SendAsync(
                token => group[0].Record.Kind == PayloadKind.OtlpTraces
                    ? _api.PostOtlpTracesAsync(body, token, contentType, encoding)
                    : _api.PostIngestionAsync(body, token, encoding),
                _stopping.Token).ConfigureAwait(false);
            verdict = DeliveryClassifier.Classify(response, group[0].Record.Kind == PayloadKind.IngestionBatch);
        }
#pragma warning disable CA1031 // Classified: transient failures wait, anything else is this request's own problem.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            verdict = DeliveryClassifier.Classify(ex, _stopping.Token);
            failure = $"{ex.GetType().Name}: {ex.Message}";
        }

        switch (verdict)
        {
            case DeliveryVerdict.Delivered:
                _gate.Succeeded();
                foreach (var piece in group)
                {
                    Delivered(piece, round);
                }

                return false;
            case DeliveryVerdict.PerEvent:
                _gate.Succeeded();
                return SettlePerEvent(group, response!, round);
            case DeliveryVerdict.Pause:
                _gate.Pause(response!.StatusCode, response.StatusCode == 401 ? "invalid credentials" : response.Body);
                KeepAll(group);
                return true;
            case DeliveryVerdict.RetryLater:
                KeepAll(group);
                return true;
            case var _ when group.Count > 1:
                // One record may spoil a merged request: find it by halves. Each half is a request of its own.
                return await BisectAsync(group, round).ConfigureAwait(false);
            case DeliveryVerdict.TooLarge:
                if (Split(group[0]) is { } parts)
                {
                    return await BisectAsync(parts, round).ConfigureAwait(false);
                }

                Reject(group[0], DropReason.TooLarge, "HTTP 413: a single item is larger than Langfuse accepts", round);
                return false;
            case DeliveryVerdict.Unsendable:
                Quarantine(group[0].Owner, group[0].Record, failure ?? "the request could not be built", round);
                return false;
            default:
                Reject(group[0], DropReason.Rejected, $"HTTP {response!.StatusCode}: {Excerpt(response.Body)}", round);
                return false;
        }
    }

    private async Task<bool> BisectAsync(IReadOnlyList<Piece> pieces, RoundStats round)
    {
        var half = pieces.Count / 2;
        var first = pieces.Take(half).ToList();
        var second = pieces.Skip(half).ToList();
        if (await DeliverAsync(first, round).ConfigureAwait(false))
        {
            KeepAll(second);
            return true;
        }

        return await DeliverAsync(second, round).ConfigureAwait(false);
    }

    /// <summary>The request for a group: one record as it is, or several merged from their original bytes.</summary>
    private static (ReadOnlyMemory<byte> Body, string? ContentType, string? Encoding) Build(IReadOnlyList<Piece> group)
    {
        var first = group[0];
        if (group.Count == 1)
        {
            return (first.Record.Payload, first.Record.ContentType, first.Record.ContentEncoding);
        }

        switch (first.MergeKey)
        {
            case MergeIngestion:
                var events = new List<IngestionBatch.BatchEvent>();
                foreach (var piece in group)
                {
                    events.AddRange(piece.Batch!.Events);
                }

                // The first record's metadata stands for the merged batch (Langfuse only logs it).
                return (first.Batch!.With(events), null, null);
            case MergeOtlpJson:
                var resourceSpans = new List<ReadOnlyMemory<byte>>();
                foreach (var piece in group)
                {
                    resourceSpans.AddRange(piece.ResourceSpans!);
                }

                return (JsonSlices.ReplaceArray(first.Record.Payload.Span, first.JsonArray, resourceSpans), first.Record.ContentType, null);
            default:
                var size = 0;
                foreach (var piece in group)
                {
                    size += piece.Record.Payload.Length;
                }

                var merged = new byte[size];
                var offset = 0;
                foreach (var piece in group)
                {
                    piece.Record.Payload.Span.CopyTo(merged.AsSpan(offset));
                    offset += piece.Record.Payload.Length;
                }

                return (merged, ProtobufContentType, null);
        }
    }

    /// <summary>
    /// Reads a 207 per event for every record of the request: an event Langfuse lists as accepted is exported; a
    /// per-event 4xx is given up (counted, reported to the owner once per reason and record); a per-event 5xx or 429,
    /// an event the answer does not mention, or every event of an answer that could not be read, stays on disk as a
    /// smaller batch built from the original bytes of those events (same envelope ids, so a resend is idempotent).
    /// Each record is settled on its own: a surprise in one leaves the others settled.
    /// </summary>
    private bool SettlePerEvent(IReadOnlyList<Piece> group, ApiResponse response, RoundStats round)
    {
        var results = response.Results;
        if (results is null)
        {
            var events = 0;
            foreach (var piece in group)
            {
                events += piece.Batch!.Events.Count;
            }

            DeliveryLog.MultiStatusUnreadable(_logger, events);
            KeepAll(group);
            return true;
        }

        var retry = false;
        var translate = new List<(Piece Piece, List<IngestionBatch.BatchEvent> Events)>();
        foreach (var piece in group)
        {
            try
            {
                retry |= SettleEvents(piece, results, round, translate);
            }
#pragma warning disable CA1031 // Any surprise settles only this record.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Quarantine(piece.Owner, piece.Record, $"{ex.GetType().Name} while reading Langfuse's answer for it", round);
            }
        }

        if (translate.Count > 0)
        {
            Translate(translate, round);
        }

        return retry;
    }

    /// <summary>
    /// A v4 Langfuse takes observations only as OTLP: the refused events of the whole request are translated together
    /// (so an update finds its create even when they came in different records), and the OTLP record takes the place
    /// of the first of those records on disk, to go out in the next round: the translation is as durable as the batch
    /// was. Segments are written back in order, so a crash in between can only send some events twice (Langfuse
    /// upserts them by id), never lose them.
    /// </summary>
    private void Translate(List<(Piece Piece, List<IngestionBatch.BatchEvent> Events)> refused, RoundStats round)
    {
        var bytes = new List<ReadOnlyMemory<byte>>();
        var items = 0;
        foreach (var (_, events) in refused)
        {
            foreach (var e in events)
            {
                bytes.Add(e.Bytes);
                items += e.Weight;
            }
        }

        byte[]? otlp = null;
        try
        {
            otlp = _translateLegacy!(bytes);
        }
#pragma warning disable CA1031 // A translator failure gives these events up, counted; it stops nothing else.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.LoopError(_logger, ex);
        }

        if (otlp is null)
        {
            foreach (var (piece, events) in refused)
            {
                RejectRecord(piece.Record with { Payload = piece.Batch!.Subset(events).Body, ItemCount = IngestionBatch.Weight(events), ContentEncoding = null }, DropReason.Rejected, "HTTP 400: Event type not accepted, and not translatable to OTLP", round);
            }

            return;
        }

        var first = refused[0].Piece;
        first.Owner.Add(new DurableRecord(PayloadKind.OtlpTraces, items, first.Record.CreatedAt, otlp, JsonContentType));
        round.Translated += bytes.Count;
    }

    private bool SettleEvents(Piece piece, IngestionResponse results, RoundStats round, List<(Piece Piece, List<IngestionBatch.BatchEvent> Events)> translations)
    {
        var batch = piece.Batch!;
        var kept = new List<IngestionBatch.BatchEvent>();
        Dictionary<(int Status, string Message), (List<IngestionBatch.BatchEvent> Events, string Detail)>? rejected = null;
        List<IngestionBatch.BatchEvent>? translate = null;
        var exported = 0;
        foreach (var e in batch.Events)
        {
            IngestionError? error = null;
            var verdict = e.Id is null ? EventVerdict.Rejected : DeliveryClassifier.ClassifyEvent(results, e.Id, out error);
            switch (verdict)
            {
                case EventVerdict.Delivered:
                    exported += e.Weight;
                    break;
                case EventVerdict.RetryLater:
                    kept.Add(e);
                    break;
                case EventVerdict.Rejected when _translateLegacy is not null && IsNotAcceptedOnV4(e, error):
                    (translate ??= []).Add(e);
                    break;
                default:
                    rejected ??= [];
                    var key = (error?.Status ?? 400, error?.Message ?? "the event has no envelope id");
                    if (!rejected.TryGetValue(key, out var same))
                    {
                        same = ([], error?.ErrorText ?? string.Empty);
                        rejected[key] = same;
                    }

                    same.Events.Add(e);
                    break;
            }
        }

        if (kept.Count == batch.Events.Count)
        {
            Keep(piece); // nothing settled: the record stays exactly as it is
            return true;
        }

        piece.Owner.Settled();
        _metrics.Exported(exported);
        round.Exported += exported;
        if (rejected is not null)
        {
            foreach (var ((status, message), (events, detail)) in rejected)
            {
                var part = batch.Subset(events);
                var items = IngestionBatch.Weight(events);
                var more = events.Count > 1 ? $" ({events.Count} events with this answer)" : string.Empty;
                var reason = $"HTTP {status}: {message}{(detail.Length == 0 ? string.Empty : ": " + Excerpt(detail))}{more}";
                RejectRecord(piece.Record with { Payload = part.Body, ItemCount = items, ContentEncoding = null }, DropReason.Rejected, reason, round);
            }
        }

        if (translate is not null)
        {
            translations.Add((piece, translate));
        }

        if (kept.Count == 0)
        {
            return translate is not null;
        }

        var rest = batch.Subset(kept);
        piece.Owner.Add(piece.Record with { Payload = rest.Body, ItemCount = IngestionBatch.Weight(kept), ContentEncoding = null });
        return true;
    }

    /// <summary>
    /// A per-event 400 that says the event type is not accepted: what a v4 Langfuse answers for every batch event but
    /// scores and SDK logs (the relay then sends it as OTLP instead). This answer is how the relay learns the upstream is
    /// v4: no probe, no setting, and a v3 upstream never gives it.
    /// </summary>
    private static bool IsNotAcceptedOnV4(IngestionBatch.BatchEvent e, IngestionError? error) =>
        error is { Status: 400 } &&
        e.Type is not (null or "score-create" or "sdk-log") &&
        ((error.Message?.Contains("not accepted", StringComparison.OrdinalIgnoreCase) ?? false) ||
         (error.ErrorText?.Contains("not accepted", StringComparison.OrdinalIgnoreCase) ?? false));

    /// <summary>Two parts holding exactly a record's events or spans, from its original bytes; null for a single item.</summary>
    private Piece[]? Split(Piece piece)
    {
        var record = piece.Record;
        if (piece.Batch is { Events.Count: >= 2 } batch)
        {
            var half = batch.Events.Count / 2;
            var first = batch.Subset(batch.Events.Take(half).ToList());
            var second = batch.Subset(batch.Events.Skip(half).ToList());
            return
            [
                new Piece(piece.Owner, record with { Payload = first.Body, ItemCount = IngestionBatch.Weight(first.Events) }, IsWhole: false) { Batch = first, MergeKey = MergeIngestion },
                new Piece(piece.Owner, record with { Payload = second.Body, ItemCount = IngestionBatch.Weight(second.Events) }, IsWhole: false) { Batch = second, MergeKey = MergeIngestion },
            ];
        }

        if (record.Kind != PayloadKind.OtlpTraces)
        {
            return null;
        }

        var payload = record.Payload;
        if (NormalizeEncoding(record.ContentEncoding) == "gzip")
        {
            if (Gzip.TryDecode(payload.Span, _limits.MaxDecodedBytes) is not { } decoded)
            {
                return null;
            }

            payload = decoded;
        }
        else if (record.ContentEncoding is not null)
        {
            return null;
        }

        if (OtlpSplitter.TrySplit(payload, piece.Json) is not { } parts)
        {
            return null;
        }

        var secondSpans = Math.Max(0, OtlpSplitter.CountSpans(parts.Second, piece.Json));
        var secondItems = Math.Min(record.ItemCount, secondSpans);
        return
        [
            new Piece(piece.Owner, record with { Payload = parts.First, ItemCount = record.ItemCount - secondItems, ContentEncoding = null }, IsWhole: false) { Json = piece.Json },
            new Piece(piece.Owner, record with { Payload = parts.Second, ItemCount = secondItems, ContentEncoding = null }, IsWhole: false) { Json = piece.Json },
        ];
    }

    private void Delivered(Piece piece, RoundStats round)
    {
        _metrics.Exported(piece.Record.ItemCount);
        round.Exported += piece.Record.ItemCount;
        piece.Owner.Settled();
    }

    /// <summary>Langfuse will never take this record (or part): counted as dropped, reported to the owner (the relay's dead-letter file).</summary>
    private void Reject(Piece piece, DropReason reason, string detail, RoundStats round)
    {
        RejectRecord(piece.Record, reason, detail, round);
        piece.Owner.Settled();
    }

    private void RejectRecord(DurableRecord record, DropReason reason, string detail, RoundStats round)
    {
        _metrics.Dropped(reason, record.ItemCount);
        round.Rejected += record.ItemCount;
        if (round.RejectionsLogged++ < MaxLoggedPerRound)
        {
            DeliveryLog.Rejected(_logger, record.ItemCount, detail);
        }

        ReportRejected(record, detail);
    }

    /// <summary>A record that can never be sent: set aside (counted, reported once), so it cannot block the records behind it.</summary>
    private void Quarantine(Slot slot, DurableRecord record, string reason, RoundStats round)
    {
        _metrics.Dropped(DropReason.Rejected, record.ItemCount);
        round.Quarantined += record.ItemCount;
        if (round.QuarantinesLogged++ < MaxLoggedPerRound)
        {
            DeliveryLog.Quarantined(_logger, record.ItemCount, reason);
        }

        ReportRejected(record, "never sendable: " + reason);
        slot.Settled();
    }

    private static void Keep(Piece piece) => piece.Owner.Add(piece.IsWhole ? piece.Owner.Original : piece.Record);

    private static void KeepAll(IEnumerable<Piece> pieces)
    {
        foreach (var piece in pieces)
        {
            Keep(piece);
        }
    }

    /// <summary>One Information line per <see cref="ForwarderLimits.SummaryInterval"/> with what was delivered; rounds log at Debug.</summary>
    private void Summarize(RoundStats round)
    {
        _summary.Add(round);
        var now = _timeProvider.GetUtcNow();
        _summaryStart ??= now;
        if (now - _summaryStart.Value >= _limits.SummaryInterval)
        {
            FlushSummary(now);
        }
    }

    private void FlushSummary(DateTimeOffset now)
    {
        if (_summary.Exported > 0 || _summary.Rejected > 0 || _summary.Quarantined > 0)
        {
            DeliveryLog.ForwardedSummary(_logger, now - (_summaryStart ?? now), _summary.Exported, _summary.Requests, _summary.Rejected, _summary.Quarantined, _queue.BufferedItems);
        }

        _summary = new RoundStats();
        _summaryStart = now;
    }

    private static string? NormalizeEncoding(string? encoding)
    {
        if (encoding is null)
        {
            return null;
        }

        var trimmed = encoding.Trim();
        return trimmed.Length == 0 || trimmed.Equals("identity", StringComparison.OrdinalIgnoreCase) ? null
            : trimmed.Equals("gzip", StringComparison.OrdinalIgnoreCase) ? "gzip"
            : encoding;
    }

    /// <summary>
    /// The content type to send an OTLP record with, and whether it is OTLP/JSON; null when Langfuse would refuse it.
    /// A type <see cref="MediaTypeHeaderValue"/> parses is sent as it is; otherwise Langfuse's own rule decides (the
    /// type contains <c>application/x-protobuf</c>, else <c>application/json</c>) and the plain type is sent.
    /// </summary>
    internal static string? NormalizeOtlpContentType(string? contentType, out bool json)
    {
        json = false;
        if (contentType is null)
        {
            return ProtobufContentType;
        }

        if (MediaTypeHeaderValue.TryParse(contentType, out var parsed))
        {
            if (string.Equals(parsed.MediaType, ProtobufContentType, StringComparison.OrdinalIgnoreCase))
            {
                return contentType;
            }

            if (string.Equals(parsed.MediaType, JsonContentType, StringComparison.OrdinalIgnoreCase))
            {
                json = true;
                return contentType;
            }
        }

        if (contentType.Contains(ProtobufContentType, StringComparison.OrdinalIgnoreCase))
        {
            return ProtobufContentType;
        }

        if (contentType.Contains(JsonContentType, StringComparison.OrdinalIgnoreCase))
        {
            json = true;
            return JsonContentType;
        }

        return null;
    }

    private static string Excerpt(string? text) =>
        text is null ? "(no body)" : text.Length <= 300 ? text : text[..300] + "...";

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

    private void AnswerDrains(bool emptied) => Answer(TakeDrainRequests(), emptied);

    private List<TaskCompletionSource<bool>> TakeDrainRequests()
    {
        lock (_drainGate)
        {
            if (_drainRequests.Count == 0)
            {
                return [];
            }

            var requests = _drainRequests;
            _drainRequests = [];
            return requests;
        }
    }

    private void ReturnDrainRequests(List<TaskCompletionSource<bool>> requests)
    {
        if (requests.Count == 0)
        {
            return;
        }

        lock (_drainGate)
        {
            _drainRequests.InsertRange(0, requests);
        }
    }

    private static void Answer(List<TaskCompletionSource<bool>> requests, bool emptied)
    {
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

        /// <summary>A 401/403 paused sending during the round; nothing more was sent.</summary>
        Paused,
    }

    /// <summary>A segment taken for this round, with one slot per record.</summary>
    private sealed class TakenSegment(DurableSegment segment, List<Slot> slots)
    {
        public DurableSegment Segment { get; } = segment;

        public List<Slot> Slots { get; } = slots;

        /// <summary>Given back to the queue (completed, released or replaced): nothing more to do with it this round.</summary>
        public bool Done { get; set; }

        /// <summary>Slots settled when it was last checkpointed.</summary>
        public int ReachedOnDisk { get; set; }
    }

    /// <summary>One record of a taken segment, and what goes back to disk in its place once it is settled.</summary>
    private sealed class Slot(DurableRecord original)
    {
        public DurableRecord Original { get; } = original;

        /// <summary>Null while not reached (kept as it is); empty once settled; else the records that replace it.</summary>
        public List<DurableRecord>? Keep { get; private set; }

        public void Settled() => Keep ??= [];

        public void Add(DurableRecord record) => (Keep ??= []).Add(record);
    }

    /// <summary>A record (or a part of one, after a split) as it is sent.</summary>
    private sealed record Piece(Slot Owner, DurableRecord Record, bool IsWhole)
    {
        public IngestionBatch? Batch { get; init; }

        public string? MergeKey { get; set; }

        public bool Json { get; init; }

        public List<ReadOnlyMemory<byte>>? ResourceSpans { get; set; }

        public Range JsonArray { get; set; }
    }

    /// <summary>What one round (or one summary period) did.</summary>
    private sealed class RoundStats
    {
        public long Exported { get; set; }

        public long Rejected { get; set; }

        public long Quarantined { get; set; }

        public int Requests { get; set; }

        public int RejectionsLogged { get; set; }

        public int QuarantinesLogged { get; set; }

        public long Translated { get; set; }

        public void Add(RoundStats other)
        {
            Exported += other.Exported;
            Rejected += other.Rejected;
            Quarantined += other.Quarantined;
            Requests += other.Requests;
        }
    }
}
