using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Langfuse.Agents.Internal.Export;

/// <summary>
/// Encodes observations and scores as Langfuse batch-ingestion bodies
/// (<c>{"batch":[...],"metadata":{...}}</c>) split into requests under a byte limit.
/// </summary>
/// <remarks>
/// <para>
/// Each distinct trace gets a <c>trace-create</c> (fresh envelope id per emission, since Langfuse drops envelope
/// ids it has seen and a later one carries newer values) right before its first observation in every request
/// that holds observations of it, unless the trace was continued from another process (that process creates it).
/// Its timestamp is the local root's start and, on the root, its input and output default to the root's, so both
/// protocols show the same trace whichever process exports first. Observation events have deterministic envelope ids
/// (<see cref="ObservationEventId"/>) so a resent batch is deduplicated; scores use <see cref="PreparedScore.EventId"/>.
/// Scores follow the observations.
/// </para>
/// <para>Not thread-safe: one instance per export loop. The returned bodies are owned by the caller.</para>
/// </remarks>
internal sealed class LegacyBatchEncoder : IDisposable
{
    /// <summary>The official SDKs' cap on one batch request.</summary>
    public const int DefaultMaxRequestBytes = 2_500_000;

    private const int MaxJsonDepth = 256;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // An HTTP body, not HTML: keep non-ASCII as UTF-8 instead of 6-byte \u escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    private readonly byte[] _metadataSuffix;
    private readonly int _maxTailBytes;
    private readonly Func<Guid> _newGuid;
    private readonly ArrayBufferWriter<byte> _eventBuffer = new(16 * 1024);
    private readonly ArrayBufferWriter<byte> _traceBuffer = new(4 * 1024);
    private readonly ArrayBufferWriter<byte> _requestBuffer = new(64 * 1024);
    private readonly Utf8JsonWriter _json;
    private readonly Dictionary<(ulong High, ulong Low), TraceSummary> _traces = [];
    private readonly HashSet<(ulong High, ulong Low)> _announced = [];
    private readonly List<LegacyBatchEvent> _pendingEvents = [];

    public LegacyBatchEncoder(string sdkVersion)
        : this(sdkVersion, Guid.NewGuid)
    {
    }

    /// <summary>Test seam: <paramref name="newGuid"/> makes the <c>trace-create</c> envelope ids.</summary>
    internal LegacyBatchEncoder(string sdkVersion, Func<Guid> newGuid)
    {
        ArgumentNullException.ThrowIfNull(sdkVersion);
        ArgumentNullException.ThrowIfNull(newGuid);
        _newGuid = newGuid;
        _json = new Utf8JsonWriter(_eventBuffer, WriterOptions);

        var suffix = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(suffix, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("sdk_name", ExportFormatting.SdkName);
            writer.WriteString("sdk_version", sdkVersion);
            writer.WriteEndObject();
        }

        // {"sdk_name":...} -> ,"sdk_name":...}} to follow "batch_size":n
        var tail = new byte[suffix.WrittenCount + 1];
        tail[0] = (byte)',';
        suffix.WrittenSpan[1..].CopyTo(tail.AsSpan(1));
        tail[^1] = (byte)'}';
        _metadataSuffix = tail;
        _maxTailBytes = MetadataPrefix.Length + 11 + _metadataSuffix.Length;
    }

    private static ReadOnlySpan<byte> RequestPrefix => "{\"batch\":["u8;

    private static ReadOnlySpan<byte> MetadataPrefix => "],\"metadata\":{\"batch_size\":"u8;

    /// <summary>The envelope id of an observation's <c>*-create</c> event: <c>{spanIdHex}-create</c>.</summary>
    public static string ObservationEventId(PreparedObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        return string.Create(16 + 7, observation.SpanId, static (span, id) =>
        {
            Ids.WriteHex(span[..16], id);
            "-create".CopyTo(span[16..]);
        });
    }

    /// <summary>
    /// Encodes <paramref name="observations"/> then <paramref name="scores"/> into as many requests as needed to keep
    /// each under <paramref name="maxRequestBytes"/>. An event too large for any request is sent alone in its own
    /// request (the caller can tell by <see cref="LegacyBatchRequest.Body"/>'s length). Returns no request when
    /// there is nothing to send.
    /// </summary>
    /// <param name="observations">Completed observations, in the order they should be sent.</param>
    /// <param name="scores">Scores.</param>
    /// <param name="emittedAt">Now: the envelope timestamp of <c>trace-create</c> events, so a later emission wins.</param>
    /// <param name="maxRequestBytes">The cap on one request body.</param>
    public IReadOnlyList<LegacyBatchRequest> Encode(
        IReadOnlyList<PreparedObservation> observations,
        IReadOnlyList<PreparedScore> scores,
        DateTimeOffset emittedAt,
        int maxRequestBytes = DefaultMaxRequestBytes)
    {
        ArgumentNullException.ThrowIfNull(observations);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRequestBytes);

        SummarizeTraces(observations);
        var requests = new List<LegacyBatchRequest>();
        StartRequest();

        for (var i = 0; i < observations.Count; i++)
        {
            var observation = observations[i];
            var eventId = WriteObservationEvent(observation);
            var key = (observation.TraceIdHigh, observation.TraceIdLow);
            var summary = _traces[key];

            // A trace continued from another process is that process's to create: Langfuse never overwrites a
            // trace's timestamp, so a callee that exported first would otherwise fix the trace's start at its own.
            var announce = !summary.Continued;
            var traceEventId = !announce || _announced.Contains(key) ? null : WriteTraceEvent(observations[summary.SourceIndex], summary.Start, emittedAt);
            var needed = _eventBuffer.WrittenCount + 1 + (traceEventId is null ? 0 : _traceBuffer.WrittenCount + 1);
            if (!Fits(needed, maxRequestBytes))
            {
                FinishRequest(requests);
                StartRequest();
                if (announce)
                {
                    traceEventId ??= WriteTraceEvent(observations[summary.SourceIndex], summary.Start, emittedAt);
                }
            }

            if (traceEventId is not null)
            {
                Append(_traceBuffer, new LegacyBatchEvent(traceEventId, LegacyEventKind.Trace, summary.SourceIndex));
                _announced.Add(key);
            }

            Append(_eventBuffer, new LegacyBatchEvent(eventId, LegacyEventKind.Observation, i));
        }

        for (var i = 0; i < scores.Count; i++)
        {
            var score = scores[i];
            WriteScoreEvent(score);
            if (!Fits(_eventBuffer.WrittenCount + 1, maxRequestBytes))
            {
                FinishRequest(requests);
                StartRequest();
            }

            Append(_eventBuffer, new LegacyBatchEvent(score.EventId, LegacyEventKind.Score, i));
        }

        if (_pendingEvents.Count > 0)
        {
            FinishRequest(requests);
        }

        _traces.Clear();
        _announced.Clear();
        return requests;
    }

    public void Dispose() => _json.Dispose();

    private static bool IsValidJson(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxJsonDepth });
            while (reader.Read())
            {
            }

            return reader.TokenType != JsonTokenType.None && reader.BytesConsumed == utf8.Length;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private void SummarizeTraces(IReadOnlyList<PreparedObservation> observations)
    {
        _traces.Clear();
        for (var i = 0; i < observations.Count; i++)
        {
            var observation = observations[i];
            var key = (observation.TraceIdHigh, observation.TraceIdLow);
            var continued = observation.ContinuesRemoteTrace || (observation.IsLocalRoot && observation.ParentSpanId != 0);

            // The trace starts when its local root started (every observation knows it); hand-built items without it
            // fall back to the batch's earliest start.
            var start = observation.TraceStart ?? observation.StartTime;
            if (!_traces.TryGetValue(key, out var summary))
            {
                _traces[key] = new TraceSummary(start, i, observation.IsLocalRoot, continued);
                continue;
            }

            var earliest = start < summary.Start ? start : summary.Start;

            // The local root's values win; otherwise the last observation's (the most recent trace state).
            var takeThis = observation.IsLocalRoot || !summary.SourceIsLocalRoot;
            _traces[key] = takeThis
                ? new TraceSummary(earliest, i, observation.IsLocalRoot, summary.Continued || continued)
                : summary with { Start = earliest, Continued = summary.Continued || continued };
        }
    }

    private bool Fits(int eventBytes, int maxRequestBytes) =>
        _pendingEvents.Count == 0 || (long)_requestBuffer.WrittenCount + eventBytes + _maxTailBytes <= maxRequestBytes;

    private void StartRequest()
    {
        _requestBuffer.ResetWrittenCount();
        _requestBuffer.Write(RequestPrefix);
        _pendingEvents.Clear();
        _announced.Clear();
    }

    private void Append(ArrayBufferWriter<byte> eventBytes, LegacyBatchEvent batchEvent)
    {
        if (_pendingEvents.Count > 0)
        {
            _requestBuffer.Write(","u8);
        }

        _requestBuffer.Write(eventBytes.WrittenSpan);
        _pendingEvents.Add(batchEvent);
    }

    private void FinishRequest(List<LegacyBatchRequest> requests)
    {
        _requestBuffer.Write(MetadataPrefix);
        var span = _requestBuffer.GetSpan(11);
        _pendingEvents.Count.TryFormat(span, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
        _requestBuffer.Advance(written);
        _requestBuffer.Write(_metadataSuffix);
        requests.Add(new LegacyBatchRequest(_requestBuffer.WrittenSpan.ToArray(), _pendingEvents.ToArray()));
        _pendingEvents.Clear();
    }

    private void BeginEvent(ArrayBufferWriter<byte> target, string eventId, DateTimeOffset timestamp, string type)
    {
        target.ResetWrittenCount();
        _json.Reset(target);
        _json.WriteStartObject();
        _json.WriteString("id"u8, eventId);
        WriteTimestamp("timestamp"u8, timestamp);
        _json.WriteString("type"u8, type);
        _json.WriteStartObject("body"u8);
    }

    private void EndEvent()
    {
        _json.WriteEndObject();
        _json.WriteEndObject();
        _json.Flush();
    }

    private string WriteTraceEvent(PreparedObservation source, DateTimeOffset start, DateTimeOffset emittedAt)
    {
        var eventId = _newGuid().ToString("D");
        BeginEvent(_traceBuffer, eventId, emittedAt, "trace-create");
        Span<char> traceId = stackalloc char[32];
        Ids.WriteHex(traceId[..16], source.TraceIdHigh);
        Ids.WriteHex(traceId[16..], source.TraceIdLow);
        _json.WriteString("id"u8, traceId);
        WriteTimestamp("timestamp"u8, start);
        WriteOptionalString("name"u8, source.TraceName);
        WriteOptionalString("userId"u8, source.UserId);
        WriteOptionalString("sessionId"u8, source.SessionId);
        if (source.IsLocalRoot)
        {
            // As Langfuse's OTLP processor does for a root span: the trace's own input and output, else the root's.
            var isRoot = source.ParentSpanId == 0;
            if (source.TraceInput is not null || !isRoot)
            {
                WriteUserValue("input"u8, source.TraceInput, source.TraceInputIsPlainString);
            }
            else
            {
                WriteUserValue("input"u8, source.Input, source.InputIsPlainString);
            }

            if (source.TraceOutput is not null || !isRoot)
            {
                WriteUserValue("output"u8, source.TraceOutput, source.TraceOutputIsPlainString);
            }
            else
            {
                WriteUserValue("output"u8, source.Output, source.OutputIsPlainString);
            }
        }

        WriteUserValue("metadata"u8, source.TraceMetadata, isPlainString: false);
        WriteOptionalString("release"u8, source.Release);
        WriteOptionalString("version"u8, source.TraceVersion);
        if (source.Tags is { Count: > 0 } tags)
        {
            _json.WriteStartArray("tags"u8);
            foreach (var tag in tags)
            {
                _json.WriteStringValue(tag ?? string.Empty);
            }

            _json.WriteEndArray();
        }

        if (source.TracePublic is { } isPublic)
        {
            _json.WriteBoolean("public"u8, isPublic);
        }

        WriteOptionalString("environment"u8, source.Environment);
        EndEvent();
        return eventId;
    }

    private string WriteObservationEvent(PreparedObservation o)
    {
        var eventId = ObservationEventId(o);
        BeginEvent(_eventBuffer, eventId, o.EndTime, ExportFormatting.CreateEventType(o.Type));

        Span<char> hex = stackalloc char[32];
        Ids.WriteHex(hex[..16], o.SpanId);
        _json.WriteString("id"u8, hex[..16]);
        Ids.WriteHex(hex[..16], o.TraceIdHigh);
        Ids.WriteHex(hex[16..], o.TraceIdLow);
        _json.WriteString("traceId"u8, hex);
        if (o.ParentSpanId != 0)
        {
            Ids.WriteHex(hex[..16], o.ParentSpanId);
            _json.WriteString("parentObservationId"u8, hex[..16]);
        }

        _json.WriteString("name"u8, o.Name);
        WriteTimestamp("startTime"u8, o.StartTime);
        if (o.Type != ObservationType.Event)
        {
            WriteTimestamp("endTime"u8, o.EndTime);
        }

        if (o.CompletionStartTime is { } completionStart)
        {
            WriteTimestamp("completionStartTime"u8, completionStart);
        }

        WriteUserValue("input"u8, o.Input, o.InputIsPlainString);
        WriteUserValue("output"u8, o.Output, o.OutputIsPlainString);
        WriteUserValue("metadata"u8, o.Metadata, isPlainString: false);
        if (ExportFormatting.LevelName(o.Level) is { } level)
        {
            _json.WriteString("level"u8, level);
        }

        WriteOptionalString("statusMessage"u8, o.StatusMessage);
        WriteOptionalString("version"u8, o.Version ?? o.TraceVersion);
        WriteOptionalString("environment"u8, o.Environment);
        WriteOptionalString("model"u8, o.Model);

        // Strict-schema maps: when not valid JSON, leave them out rather than fail the whole event.
        if (o.ModelParameters is not null)
        {
            TryWriteRawJson("modelParameters"u8, o.ModelParameters);
        }

        if (o.UsageDetails is not null)
        {
            TryWriteRawJson("usageDetails"u8, o.UsageDetails);
        }

        if (o.CostDetails is not null)
        {
            TryWriteRawJson("costDetails"u8, o.CostDetails);
        }

        if (o.PromptName is not null && o.PromptVersion is { } promptVersion)
        {
            _json.WriteString("promptName"u8, o.PromptName);
            _json.WriteNumber("promptVersion"u8, promptVersion);
        }

        EndEvent();
        return eventId;
    }

    private void WriteScoreEvent(PreparedScore score)
    {
        BeginEvent(_eventBuffer, score.EventId, score.Timestamp, "score-create");
        _json.WriteString("id"u8, score.Id);
        _json.WriteString("name"u8, score.Name);
        var value = score.Value;
        switch (value.DataType)
        {
            case ScoreDataType.Numeric:
            case ScoreDataType.Boolean:
                if (double.IsFinite(value.Number))
                {
                    _json.WriteNumber("value"u8, value.Number);
                }
                else
                {
                    // JSON has no NaN/Infinity; Langfuse answers this event 400 and the caller drops it.
                    _json.WriteNull("value"u8);
                }

                break;
            default:
                _json.WriteString("value"u8, value.Text ?? string.Empty);
                break;
        }

        _json.WriteString("dataType"u8, value.DataType switch
        {
            ScoreDataType.Boolean => "BOOLEAN",
            ScoreDataType.Categorical => "CATEGORICAL",
            ScoreDataType.Text => "TEXT",
            _ => "NUMERIC",
        });
        WriteOptionalString("comment"u8, score.Comment);
        WriteUserValue("metadata"u8, score.Metadata, isPlainString: false);
        WriteOptionalString("environment"u8, score.Environment);

        // Exactly one target.
        if (score.TraceId is not null)
        {
            _json.WriteString("traceId"u8, score.TraceId);
            WriteOptionalString("observationId"u8, score.ObservationId);
        }
        else if (score.SessionId is not null)
        {
            _json.WriteString("sessionId"u8, score.SessionId);
        }

        EndEvent();
    }

    private void WriteTimestamp(ReadOnlySpan<byte> name, DateTimeOffset value)
    {
        Span<char> text = stackalloc char[ExportFormatting.TimestampLength + 8];
        if (ExportFormatting.TryFormatTimestamp(value, text, out var written))
        {
            _json.WriteString(name, text[..written]);
        }
    }

    private void WriteOptionalString(ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            _json.WriteString(name, value);
        }
    }

    /// <summary>A plain string as a JSON string; JSON text raw, or as a JSON string when it turns out not to be JSON.</summary>
    private void WriteUserValue(ReadOnlySpan<byte> name, string? value, bool isPlainString)
    {
        if (value is null)
        {
            return;
        }

        if (isPlainString || !TryWriteRawJson(name, value))
        {
            _json.WriteString(name, value);
        }
    }

    private bool TryWriteRawJson(ReadOnlySpan<byte> name, string json)
    {
        if (json.Length == 0)
        {
            return false;
        }

        var byteCount = Encoding.UTF8.GetByteCount(json);
        var rented = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            var utf8 = rented.AsSpan(0, Encoding.UTF8.GetBytes(json, rented));
            if (!IsValidJson(utf8))
            {
                return false;
            }

            _json.WritePropertyName(name);
            _json.WriteRawValue(utf8, skipInputValidation: true);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private readonly record struct TraceSummary(DateTimeOffset Start, int SourceIndex, bool SourceIsLocalRoot, bool Continued);
}
