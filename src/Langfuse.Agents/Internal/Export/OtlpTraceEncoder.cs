using System.Text;

namespace Langfuse.Agents.Internal.Export;

/// <summary>
/// Encodes prepared observations as a binary OTLP <c>ExportTraceServiceRequest</c> (one resource, one scope)
/// carrying the <c>langfuse.*</c> span attributes Langfuse reads.
/// </summary>
/// <remarks>
/// Not thread-safe: one instance per export loop. The memory an <c>Encode</c> call returns is the encoder's own
/// buffer and stays valid until the next <c>Encode</c> or <see cref="Dispose"/>; send it (or copy it) first.
/// </remarks>
internal sealed class OtlpTraceEncoder : IDisposable
{
    /// <summary>The instrumentation scope name of the official Langfuse SDKs.</summary>
    public const string ScopeName = "langfuse-sdk";

    // ExportTraceServiceRequest / ResourceSpans / ScopeSpans
    private const int RequestResourceSpans = 1;
    private const int ResourceSpansResource = 1;
    private const int ResourceSpansScopeSpans = 2;
    private const int ScopeSpansScope = 1;
    private const int ScopeSpansSpans = 2;

    // Span
    private const int SpanTraceId = 1;
    private const int SpanSpanId = 2;
    private const int SpanParentSpanId = 4;
    private const int SpanName = 5;
    private const int SpanKind = 6;
    private const int SpanStartTime = 7;
    private const int SpanEndTime = 8;
    private const int SpanAttributes = 9;
    private const int SpanEvents = 11;
    private const int SpanStatus = 15;
    private const int SpanFlags = 16;
    private const int SpanKindInternal = 1;

    // Span.Event, Status, KeyValue, AnyValue, ArrayValue
    private const int EventTime = 1;
    private const int EventName = 2;
    private const int EventAttributes = 3;
    private const int StatusMessage = 2;
    private const int StatusCode = 3;
    private const int StatusCodeError = 2;
    private const int KeyValueKey = 1;
    private const int KeyValueValue = 2;
    private const int AnyValueString = 1;
    private const int AnyValueBool = 2;
    private const int AnyValueInt = 3;
    private const int AnyValueArray = 5;
    private const int ArrayValueValues = 1;

    // SpanFlags: bits 0-7 W3C trace flags, 0x100 "is-remote is known", 0x200 "parent is remote".
    private const uint FlagsHasIsRemote = 0x100;
    private const uint FlagsIsRemote = 0x200;

    // Per-span overhead besides strings: ids 2+16+2+8+2+8, times 2*9, flags 6, kind 2, span framing 6, slack.
    private const int SpanFixedBytes = 96;

    // Per attribute besides key and value bytes: KeyValue tag+4, key tag+len, AnyValue tag+4, value tag+len (5).
    private const int AttributeOverheadBytes = 20;

    private readonly ProtobufWriter _writer;
    private readonly byte[] _resourceField;
    private readonly byte[] _scopeField;

    public OtlpTraceEncoder(OtlpResourceInfo resource, int initialBufferBytes = 64 * 1024)
    {
        ArgumentNullException.ThrowIfNull(resource);
        _writer = new ProtobufWriter(initialBufferBytes);
        (_resourceField, _scopeField) = EncodeResourceAndScope(resource);
    }

    /// <summary>Bytes of one request with no spans: the floor for any size limit.</summary>
    public int EmptyRequestBytes => 2 * (1 + 4) + _resourceField.Length + _scopeField.Length;

    /// <summary>
    /// A cheap upper-bound-ish estimate of the bytes <paramref name="item"/> adds to a request (exact UTF-8 lengths
    /// of its strings plus a generous fixed overhead per field). Meant for <see cref="PreparedObservation.EstimatedBytes"/>
    /// and queue accounting; <see cref="EncodeUpTo"/> splits by real size.
    /// </summary>
    public static int EstimateSize(PreparedObservation item)
    {
        ArgumentNullException.ThrowIfNull(item);
        long size = SpanFixedBytes + Utf8Length(item.Name);
        size += Attribute(Keys.ObservationType, "generation");
        size += Attribute(Keys.ObservationInput, item.Input);
        size += Attribute(Keys.ObservationOutput, item.Output);
        size += Attribute(Keys.ObservationMetadata, item.Metadata);
        size += item.Level == ObservationLevel.Default ? 0 : Keys.ObservationLevel.Length + AttributeOverheadBytes + 7;
        size += Attribute(Keys.ObservationStatusMessage, item.StatusMessage);
        if (item.Level == ObservationLevel.Error)
        {
            size += 16 + Utf8Length(item.StatusMessage);
        }

        size += Attribute(Keys.Version, item.Version ?? item.TraceVersion);
        size += Attribute(Keys.ModelName, item.Model);
        size += Attribute(Keys.ModelParameters, item.ModelParameters);
        size += Attribute(Keys.UsageDetails, item.UsageDetails);
        size += Attribute(Keys.CostDetails, item.CostDetails);
        size += item.CompletionStartTime is null ? 0 : Keys.CompletionStartTime.Length + AttributeOverheadBytes + ExportFormatting.TimestampLength;
        if (item.PromptName is not null && item.PromptVersion is not null)
        {
            size += Attribute(Keys.PromptName, item.PromptName) + Keys.PromptVersion.Length + AttributeOverheadBytes + 10;
        }

        size += Attribute(Keys.TraceName, item.TraceName);
        size += Attribute(Keys.UserId, item.UserId);
        size += Attribute(Keys.SessionId, item.SessionId);
        if (item.Tags is { Count: > 0 } tags)
        {
            size += Keys.TraceTags.Length + AttributeOverheadBytes + 5;
            foreach (var tag in tags)
            {
                size += 11 + Utf8Length(tag);
            }
        }

        size += Attribute(Keys.TraceMetadata, item.TraceMetadata);
        size += item.TracePublic is null ? 0 : Keys.TracePublic.Length + AttributeOverheadBytes;
        size += Attribute(Keys.Release, item.Release);
        size += Attribute(Keys.Environment, item.Environment);
        if (item.IsLocalRoot)
        {
            size += Attribute(Keys.TraceInput, item.TraceInput);
            size += Attribute(Keys.TraceOutput, item.TraceOutput);
        }

        if (item.Exception is { } exception)
        {
            size += 32 + "exception".Length
                + Attribute(Keys.ExceptionType, exception.Type)
                + Attribute(Keys.ExceptionMessage, exception.Message)
                + Attribute(Keys.ExceptionStacktrace, exception.StackTrace);
        }

        return (int)Math.Min(size, int.MaxValue);

        static long Attribute(ReadOnlySpan<byte> key, string? value) =>
            value is null ? 0 : key.Length + AttributeOverheadBytes + Utf8Length(value);
    }

    /// <summary>Encodes all <paramref name="items"/> as one request.</summary>
    public ReadOnlyMemory<byte> Encode(IReadOnlyList<PreparedObservation> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return Encode(items, 0, items.Count);
    }

    /// <summary>Encodes <paramref name="count"/> items from <paramref name="start"/> as one request.</summary>
    public ReadOnlyMemory<byte> Encode(IReadOnlyList<PreparedObservation> items, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, items.Count - start);
        var (resourceSpans, scopeSpans) = BeginRequest();
        for (var i = start; i < start + count; i++)
        {
            WriteSpan(items[i]);
        }

        return EndRequest(resourceSpans, scopeSpans);
    }

    /// <summary>
    /// Encodes as many items from <paramref name="start"/> as fit in <paramref name="maxRequestBytes"/> (measured
    /// exactly), but always at least one: a single item larger than the limit comes back alone, and the caller can
    /// tell by the length. Loop with <c>start += encodedCount</c> until all items are sent.
    /// </summary>
    public ReadOnlyMemory<byte> EncodeUpTo(IReadOnlyList<PreparedObservation> items, int start, int maxRequestBytes, out int encodedCount)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, items.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRequestBytes);
        var (resourceSpans, scopeSpans) = BeginRequest();
        var end = start;
        while (end < items.Count)
        {
            var mark = _writer.Length;
            WriteSpan(items[end]);

            // Closing the request adds no bytes: its length prefixes are already reserved.
            if (_writer.Length > maxRequestBytes && end > start)
            {
                _writer.Truncate(mark);
                break;
            }

            end++;
        }

        encodedCount = end - start;
        return EndRequest(resourceSpans, scopeSpans);
    }

    public void Dispose() => _writer.Dispose();

    private static int Utf8Length(string? value) => value is null ? 0 : Encoding.UTF8.GetByteCount(value);

    private static (byte[] Resource, byte[] Scope) EncodeResourceAndScope(OtlpResourceInfo info)
    {
        using var writer = new ProtobufWriter(1024);

        // Resource.attributes = 1
        WriteStringAttribute(writer, 1, Keys.ServiceName, info.ServiceName);
        if (info.ServiceInstanceId is not null)
        {
            WriteStringAttribute(writer, 1, Keys.ServiceInstanceId, info.ServiceInstanceId);
        }

        WriteStringAttribute(writer, 1, Keys.TelemetrySdkName, ExportFormatting.SdkName);
        WriteStringAttribute(writer, 1, Keys.TelemetrySdkLanguage, "dotnet");
        WriteStringAttribute(writer, 1, Keys.TelemetrySdkVersion, info.SdkVersion);
        if (info.Attributes is not null)
        {
            foreach (var (key, value) in info.Attributes)
            {
                if (key is "service.name" or "service.instance.id" or "telemetry.sdk.name" or "telemetry.sdk.language" or "telemetry.sdk.version" || value is null)
                {
                    continue;
                }

                var kv = writer.BeginLengthDelimited(1);
                writer.WriteStringField(KeyValueKey, key);
                var any = writer.BeginLengthDelimited(KeyValueValue);
                writer.WriteStringField(AnyValueString, value);
                writer.EndLengthDelimited(any);
                writer.EndLengthDelimited(kv);
            }
        }

        var resourceContent = writer.WrittenSpan.ToArray();
        writer.Reset();
        writer.WriteBytesField(ResourceSpansResource, resourceContent);
        var resource = writer.WrittenSpan.ToArray();

        writer.Reset();
        var scope = writer.BeginLengthDelimited(ScopeSpansScope);
        writer.WriteStringField(1, ScopeName);
        writer.WriteStringField(2, info.SdkVersion);
        writer.EndLengthDelimited(scope);
        return (resource, writer.WrittenSpan.ToArray());
    }

    private static void WriteStringAttribute(ProtobufWriter writer, int fieldNumber, ReadOnlySpan<byte> key, ReadOnlySpan<char> value)
    {
        var kv = writer.BeginLengthDelimited(fieldNumber);
        writer.WriteBytesField(KeyValueKey, key);
        var any = writer.BeginLengthDelimited(KeyValueValue);
        writer.WriteStringField(AnyValueString, value);
        writer.EndLengthDelimited(any);
        writer.EndLengthDelimited(kv);
    }

    private (int ResourceSpans, int ScopeSpans) BeginRequest()
    {
        _writer.Reset();
        var resourceSpans = _writer.BeginLengthDelimited(RequestResourceSpans);
        _writer.WriteRaw(_resourceField);
        var scopeSpans = _writer.BeginLengthDelimited(ResourceSpansScopeSpans);
        _writer.WriteRaw(_scopeField);
        return (resourceSpans, scopeSpans);
    }

    private ReadOnlyMemory<byte> EndRequest(int resourceSpans, int scopeSpans)
    {
        _writer.EndLengthDelimited(scopeSpans);
        _writer.EndLengthDelimited(resourceSpans);
        return _writer.WrittenMemory;
    }

    private void WriteSpan(PreparedObservation item)
    {
        var w = _writer;
        var span = w.BeginLengthDelimited(ScopeSpansSpans);

        Span<byte> id = stackalloc byte[16];
        Ids.WriteBigEndian(id[..8], item.TraceIdHigh);
        Ids.WriteBigEndian(id[8..], item.TraceIdLow);
        w.WriteBytesField(SpanTraceId, id);
        Ids.WriteBigEndian(id[..8], item.SpanId);
        w.WriteBytesField(SpanSpanId, id[..8]);
        if (item.ParentSpanId != 0)
        {
            Ids.WriteBigEndian(id[..8], item.ParentSpanId);
            w.WriteBytesField(SpanParentSpanId, id[..8]);
        }

        w.WriteStringField(SpanName, item.Name);
        w.WriteVarintField(SpanKind, SpanKindInternal);
        w.WriteFixed64Field(SpanStartTime, ExportFormatting.ToUnixNanoseconds(item.StartTime));
        w.WriteFixed64Field(SpanEndTime, ExportFormatting.ToUnixNanoseconds(item.EndTime));

        WriteAttributes(item);

        if (item.Exception is { } exception)
        {
            var ev = w.BeginLengthDelimited(SpanEvents);
            w.WriteFixed64Field(EventTime, ExportFormatting.ToUnixNanoseconds(item.EndTime));
            w.WriteBytesField(EventName, "exception"u8);
            WriteStringAttribute(w, EventAttributes, Keys.ExceptionType, exception.Type ?? string.Empty);
            WriteStringAttribute(w, EventAttributes, Keys.ExceptionMessage, exception.Message ?? string.Empty);
            if (exception.StackTrace is not null)
            {
                WriteStringAttribute(w, EventAttributes, Keys.ExceptionStacktrace, exception.StackTrace);
            }

            w.EndLengthDelimited(ev);
        }

        if (item.Level == ObservationLevel.Error)
        {
            var status = w.BeginLengthDelimited(SpanStatus);
            if (item.StatusMessage is not null)
            {
                w.WriteStringField(StatusMessage, item.StatusMessage);
            }

            w.WriteVarintField(StatusCode, StatusCodeError);
            w.EndLengthDelimited(status);
        }

        var flags = (item.Sampled ? 1u : 0u) | FlagsHasIsRemote | (item.ParentIsRemote ? FlagsIsRemote : 0u);
        w.WriteFixed32Field(SpanFlags, flags);
        w.EndLengthDelimited(span);
    }

    private void WriteAttributes(PreparedObservation item)
    {
        var w = _writer;
        WriteStringAttribute(w, SpanAttributes, Keys.ObservationType, ExportFormatting.ObservationTypeName(item.Type));
        WriteOptional(Keys.ObservationInput, item.Input);
        WriteOptional(Keys.ObservationOutput, item.Output);
        WriteOptional(Keys.ObservationMetadata, item.Metadata);
        if (ExportFormatting.LevelName(item.Level) is { } level)
        {
            WriteStringAttribute(w, SpanAttributes, Keys.ObservationLevel, level);
        }

        WriteOptional(Keys.ObservationStatusMessage, item.StatusMessage);
        WriteOptional(Keys.Version, item.Version ?? item.TraceVersion);
        WriteOptional(Keys.ModelName, item.Model);
        WriteOptional(Keys.ModelParameters, item.ModelParameters);
        WriteOptional(Keys.UsageDetails, item.UsageDetails);
        WriteOptional(Keys.CostDetails, item.CostDetails);
        if (item.CompletionStartTime is { } completionStart)
        {
            Span<char> text = stackalloc char[ExportFormatting.TimestampLength + 8];
            if (ExportFormatting.TryFormatTimestamp(completionStart, text, out var written))
            {
                WriteStringAttribute(w, SpanAttributes, Keys.CompletionStartTime, text[..written]);
            }
        }

        // Langfuse links a prompt only with both name and version; a lone half would be noise.
        if (item.PromptName is not null && item.PromptVersion is { } promptVersion)
        {
            WriteStringAttribute(w, SpanAttributes, Keys.PromptName, item.PromptName);
            var kv = w.BeginLengthDelimited(SpanAttributes);
            w.WriteBytesField(KeyValueKey, Keys.PromptVersion);
            var any = w.BeginLengthDelimited(KeyValueValue);
            w.WriteInt64Field(AnyValueInt, promptVersion);
            w.EndLengthDelimited(any);
            w.EndLengthDelimited(kv);
        }

        WriteOptional(Keys.TraceName, item.TraceName);
        WriteOptional(Keys.UserId, item.UserId);
        WriteOptional(Keys.SessionId, item.SessionId);
        if (item.Tags is { Count: > 0 } tags)
        {
            var kv = w.BeginLengthDelimited(SpanAttributes);
            w.WriteBytesField(KeyValueKey, Keys.TraceTags);
            var any = w.BeginLengthDelimited(KeyValueValue);
            var array = w.BeginLengthDelimited(AnyValueArray);
            for (var i = 0; i < tags.Count; i++)
            {
                var element = w.BeginLengthDelimited(ArrayValueValues);
                w.WriteStringField(AnyValueString, tags[i] ?? string.Empty);
                w.EndLengthDelimited(element);
            }

            w.EndLengthDelimited(array);
            w.EndLengthDelimited(any);
            w.EndLengthDelimited(kv);
        }

        WriteOptional(Keys.TraceMetadata, item.TraceMetadata);
        if (item.TracePublic is { } isPublic)
        {
            var kv = w.BeginLengthDelimited(SpanAttributes);
            w.WriteBytesField(KeyValueKey, Keys.TracePublic);
            var any = w.BeginLengthDelimited(KeyValueValue);
            w.WriteBoolField(AnyValueBool, isPublic);
            w.EndLengthDelimited(any);
            w.EndLengthDelimited(kv);
        }

        WriteOptional(Keys.Release, item.Release);
        WriteOptional(Keys.Environment, item.Environment);
        if (item.IsLocalRoot)
        {
            WriteOptional(Keys.TraceInput, item.TraceInput);
            WriteOptional(Keys.TraceOutput, item.TraceOutput);
        }
    }

    private void WriteOptional(ReadOnlySpan<byte> key, string? value)
    {
        if (value is not null)
        {
            WriteStringAttribute(_writer, SpanAttributes, key, value);
        }
    }

    /// <summary>Attribute keys, pre-encoded as UTF-8.</summary>
    private static class Keys
    {
        public static ReadOnlySpan<byte> ServiceName => "service.name"u8;

        public static ReadOnlySpan<byte> ServiceInstanceId => "service.instance.id"u8;

        public static ReadOnlySpan<byte> TelemetrySdkName => "telemetry.sdk.name"u8;

        public static ReadOnlySpan<byte> TelemetrySdkLanguage => "telemetry.sdk.language"u8;

        public static ReadOnlySpan<byte> TelemetrySdkVersion => "telemetry.sdk.version"u8;

        public static ReadOnlySpan<byte> ObservationType => "langfuse.observation.type"u8;

        public static ReadOnlySpan<byte> ObservationInput => "langfuse.observation.input"u8;

        public static ReadOnlySpan<byte> ObservationOutput => "langfuse.observation.output"u8;

        public static ReadOnlySpan<byte> ObservationMetadata => "langfuse.observation.metadata"u8;

        public static ReadOnlySpan<byte> ObservationLevel => "langfuse.observation.level"u8;

        public static ReadOnlySpan<byte> ObservationStatusMessage => "langfuse.observation.status_message"u8;

        public static ReadOnlySpan<byte> Version => "langfuse.version"u8;

        public static ReadOnlySpan<byte> ModelName => "langfuse.observation.model.name"u8;

        public static ReadOnlySpan<byte> ModelParameters => "langfuse.observation.model.parameters"u8;

        public static ReadOnlySpan<byte> UsageDetails => "langfuse.observation.usage_details"u8;

        public static ReadOnlySpan<byte> CostDetails => "langfuse.observation.cost_details"u8;

        public static ReadOnlySpan<byte> CompletionStartTime => "langfuse.observation.completion_start_time"u8;

        public static ReadOnlySpan<byte> PromptName => "langfuse.observation.prompt.name"u8;

        public static ReadOnlySpan<byte> PromptVersion => "langfuse.observation.prompt.version"u8;

        public static ReadOnlySpan<byte> TraceName => "langfuse.trace.name"u8;

        public static ReadOnlySpan<byte> UserId => "langfuse.user.id"u8;

        public static ReadOnlySpan<byte> SessionId => "langfuse.session.id"u8;

        public static ReadOnlySpan<byte> TraceTags => "langfuse.trace.tags"u8;

        public static ReadOnlySpan<byte> TraceMetadata => "langfuse.trace.metadata"u8;

        public static ReadOnlySpan<byte> TracePublic => "langfuse.trace.public"u8;

        public static ReadOnlySpan<byte> Release => "langfuse.release"u8;

        public static ReadOnlySpan<byte> Environment => "langfuse.environment"u8;

        public static ReadOnlySpan<byte> TraceInput => "langfuse.trace.input"u8;

        public static ReadOnlySpan<byte> TraceOutput => "langfuse.trace.output"u8;

        public static ReadOnlySpan<byte> ExceptionType => "exception.type"u8;

        public static ReadOnlySpan<byte> ExceptionMessage => "exception.message"u8;

        public static ReadOnlySpan<byte> ExceptionStacktrace => "exception.stacktrace"u8;
    }
}
