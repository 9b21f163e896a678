using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Langfuse.Agents.Internal.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Export;

/// <summary>
/// Turns completed observations and scores into <see cref="PreparedObservation"/> / <see cref="PreparedScore"/>:
/// applies privacy mode and the user's mask, serializes values to JSON and enforces the per-item size limit. Runs on
/// the background path only, so none of this costs the caller anything.
/// </summary>
internal sealed class ObservationPreparer
{
    public const string MaskFailedValue = "<fully masked due to failed mask function>";
    public const string TruncatedValue = "<truncated due to size exceeding limit>";

    /// <summary>The most characters of stack trace sent (in metadata and in the OTLP exception event).</summary>
    public const int MaxStackTraceChars = 8_192;

    /// <summary>Metadata key of a recorded exception's full type name (OpenTelemetry's attribute name).</summary>
    public const string ExceptionTypeKey = "exception.type";

    /// <summary>Metadata key of a recorded exception's stack trace, bounded by <see cref="MaxStackTraceChars"/>.</summary>
    public const string ExceptionStackTraceKey = "exception.stacktrace";

    /// <summary>What a text score's value becomes in privacy mode (Langfuse requires 1 to 500 characters).</summary>
    public const string PrivacyRedactedText = "<redacted in privacy mode>";

    // Metadata must stay a JSON object on the wire, so the marker goes inside one.
    private const string TruncatedMetadata = "{\"truncated\":\"" + TruncatedValue + "\"}";

    private static readonly JsonSerializerOptions DefaultJsonOptions = new(JsonSerializerDefaults.Web)
    {
        ReferenceHandler = ReferenceHandler.IgnoreCycles,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = 64,
    };

    private readonly Func<object?, object?>? _mask;
    private readonly bool _privacyMode;
    private readonly JsonSerializerOptions _jsonOptions;
    private readonly int _maxEventBytes;
    private readonly string? _defaultEnvironment;
    private readonly string? _defaultRelease;
    private readonly ILogger _logger;
    private readonly MaskFailureReport _maskFailures;
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    public ObservationPreparer(LangfuseOptions options, ILogger logger, TimeProvider? timeProvider = null)
        : this(options, logger, timeProvider, JsonSerializer.IsReflectionEnabledByDefault)
    {
    }

    // allowReflection false serializes as a trimmed or NativeAOT app does (tests of that path under the JIT).
    internal ObservationPreparer(LangfuseOptions options, ILogger logger, TimeProvider? timeProvider, bool allowReflection)
    {
        _mask = options.Mask;
        _privacyMode = options.PrivacyMode;
        _jsonOptions = JsonOptionsFor(options.JsonSerializerOptions, allowReflection);

        _maxEventBytes = options.MaxEventBytes;
        _defaultEnvironment = options.Environment;
        _defaultRelease = options.Release;
        _logger = logger;
        _maskFailures = new MaskFailureReport(logger, timeProvider ?? TimeProvider.System);
    }

    /// <summary>
    /// The options user values are serialized with: the user's (or the SDK's defaults) on a copy, so the caller's instance
    /// is never locked, whose resolver chain puts the user's resolver first, then the SDK's source-generated metadata for
    /// the values it writes itself, then reflection only where the runtime allows it (not under trimming or NativeAOT).
    /// </summary>
    internal static JsonSerializerOptions JsonOptionsFor(JsonSerializerOptions? user) =>
        JsonOptionsFor(user, JsonSerializer.IsReflectionEnabledByDefault);

    /// <summary>As <see cref="JsonOptionsFor(JsonSerializerOptions?)"/>; <paramref name="allowReflection"/> false is what trimmed and NativeAOT apps get.</summary>
    internal static JsonSerializerOptions JsonOptionsFor(JsonSerializerOptions? user, bool allowReflection)
    {
        var options = new JsonSerializerOptions(user ?? DefaultJsonOptions);
        var chain = new List<IJsonTypeInfoResolver>(3);
        if (user?.TypeInfoResolver is { } own)
        {
            chain.Add(own);
        }

        chain.Add(ValueJsonContext.Default);
        if (allowReflection && ReflectionResolver() is { } reflection)
        {
            chain.Add(reflection);
        }

        options.TypeInfoResolver = JsonTypeInfoResolver.Combine([.. chain]);
        options.MakeReadOnly();
        return options;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only when JsonSerializer.IsReflectionEnabledByDefault, i.e. not trimmed.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only when JsonSerializer.IsReflectionEnabledByDefault, i.e. not NativeAOT.")]
    private static DefaultJsonTypeInfoResolver? ReflectionResolver() =>
        JsonSerializer.IsReflectionEnabledByDefault ? new DefaultJsonTypeInfoResolver() : null;

    /// <summary>What a value without JSON metadata becomes (under trimming or NativeAOT): an explicit marker, never <c>{}</c>.</summary>
    internal static string NoMetadataMarker(Type type) =>
        $"<unserializable {type.Name}: no JSON metadata; add its JsonSerializerContext to LangfuseOptions.JsonSerializerOptions.TypeInfoResolver>";

    /// <summary>Prepares an observation with its trace's attributes as they are now (tests and benchmarks).</summary>
    public PreparedObservation? Prepare(LangfuseObservation observation) =>
        Prepare(new CompletedObservation(observation, observation.TraceIfCreated?.Attributes));

    /// <summary>
    /// Prepares one ended observation with the trace attributes it carried when it ended, or returns null when it
    /// cannot be made to fit (counted by the caller).
    /// </summary>
    public PreparedObservation? Prepare(in CompletedObservation completed)
    {
        var observation = completed.Observation;
        var trace = completed.Trace; // null: nobody set trace-level properties, so only defaults apply
        var generation = observation as LangfuseGeneration;
        var privacy = _privacyMode; // free text is never serialized (nor masked) in privacy mode, so it cannot leak
        var (input, inputPlain) = privacy ? default : Value(observation.Input, masked: true);
        var (output, outputPlain) = privacy ? default : Value(observation.Output, masked: true);
        var metadata = MapJson(privacy ? StructuralOnly(observation.MetadataItems) : observation.MetadataItems, masked: true);
        string? traceInput = null, traceOutput = null;
        bool traceInputPlain = false, traceOutputPlain = false;
        if (observation.IsLocalRoot && trace is not null && !privacy)
        {
            (traceInput, traceInputPlain) = Value(trace.Input, masked: true);
            (traceOutput, traceOutputPlain) = Value(trace.Output, masked: true);
        }

        var traceMetadata = trace is null || trace.MetadataMap.IsEmpty || privacy ? null : Value(trace.MetadataMap, masked: true).Json;
        RecordedException? exception = null;
        if (observation.Exception is { } ex)
        {
            // Langfuse ignores OTLP exception events: the type and stack trace go to metadata, where it shows them, in
            // both protocols (not through the mask: they are code, not user text). The message is the status's.
            var type = ex.GetType().FullName ?? ex.GetType().Name;
            var stackTrace = BoundedStackTrace(ex);
            exception = new RecordedException(type, privacy ? string.Empty : MaskText(ex.Message) ?? string.Empty, stackTrace);
            metadata = WithException(metadata, type, stackTrace);
        }

        var prepared = new PreparedObservation
        {
            TraceIdHigh = observation.TraceIdHigh,
            TraceIdLow = observation.TraceIdLow,
            SpanId = observation.SpanId,
            ParentSpanId = observation.ParentSpanId,
            ParentIsRemote = observation.ParentIsRemote,
            Sampled = observation.IsSampled,
            Type = observation.Type,
            Name = observation.Name,
            StartTime = observation.StartTime,
            EndTime = observation.EndTimeUnchecked,
            Input = input,
            InputIsPlainString = inputPlain,
            Output = output,
            OutputIsPlainString = outputPlain,
            Metadata = metadata,
            Level = observation.Level,
            StatusMessage = privacy ? StructuralStatus(observation) : MaskText(observation.StatusMessage),
            Version = observation.Version,
            Exception = exception,
            Model = generation?.Model,
            ModelParameters = generation is null ? null : MapJson(generation.ModelParameterItems, masked: false),
            UsageDetails = generation?.UsageDetailItems() is { Count: > 0 } usage ? WriteUsage(usage) : null,
            CostDetails = generation is { CostItems.Length: > 0 } ? WriteCost(generation.CostItems) : null,
            CompletionStartTime = generation?.CompletionStartTime,
            PromptName = generation?.PromptName,
            PromptVersion = generation?.PromptVersion,
            TraceName = trace?.Name,
            UserId = trace?.UserId,
            SessionId = trace?.SessionId,
            Tags = trace?.TagsArray is { Length: > 0 } tags ? tags : null,
            TraceMetadata = traceMetadata,
            TracePublic = trace?.Public,
            Release = trace?.Release ?? _defaultRelease,
            TraceVersion = trace?.Version,
            Environment = trace?.Environment ?? _defaultEnvironment,
            IsLocalRoot = observation.IsLocalRoot,
            TraceStart = observation.Root.StartTime,
            ContinuesRemoteTrace = observation.Root.ParentSpanId != 0,
            TraceInput = traceInput,
            TraceInputIsPlainString = traceInputPlain,
            TraceOutput = traceOutput,
            TraceOutputIsPlainString = traceOutputPlain,
        };

        return Fit(prepared) ? prepared : null;
    }

    /// <summary>Prepares one score; in privacy mode without its comment, its text value or free-text metadata.</summary>
    public PreparedScore Prepare(LangfuseScore score) => new()
    {
        Id = score.Id,
        EventId = score.Id + "-score",
        Name = score.Name,
        Value = _privacyMode && score.Value.DataType == ScoreDataType.Text ? ScoreValue.FromText(PrivacyRedactedText) : score.Value,
        Timestamp = score.Timestamp,
        Comment = _privacyMode ? null : MaskText(score.Comment),
        TraceId = score.TraceId,
        ObservationId = score.ObservationId,
        SessionId = score.SessionId,
        Metadata = ScoreMetadata(score.Metadata),
        Environment = score.Environment ?? _defaultEnvironment,
    };

    private string? ScoreMetadata(IReadOnlyDictionary<string, object?>? metadata)
    {
        if (metadata is not { Count: > 0 })
        {
            return null;
        }

        if (!_privacyMode)
        {
            return Value(metadata, masked: true).Json;
        }

        var kept = StructuralOnly([.. metadata]);
        return MapJson(kept, masked: true);
    }

    /// <summary>
    /// Privacy mode's metadata: the keys the agent helpers write (codes and names by contract) and entries whose value
    /// is a number or a boolean; every other value may be free text, so it goes.
    /// </summary>
    private static ReadOnlySpan<KeyValuePair<string, object?>> StructuralOnly(ReadOnlySpan<KeyValuePair<string, object?>> items)
    {
        List<KeyValuePair<string, object?>>? kept = null;
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            if (IsStructural(item))
            {
                kept?.Add(item);
            }
            else if (kept is null)
            {
                kept = new List<KeyValuePair<string, object?>>(items.Length);
                kept.AddRange(items[..i]);
            }
        }

        return kept is null ? items : kept.ToArray();

        static bool IsStructural(KeyValuePair<string, object?> item) =>
            AgentMetadataKeys.All.Contains(item.Key)
            || item.Value is bool or sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal;
    }

    /// <summary>
    /// Privacy mode's status message: the failure's <c>type/code</c> when the agent helpers recorded one, else the
    /// exception's type; never message text.
    /// </summary>
    private static string? StructuralStatus(LangfuseObservation observation)
    {
        string? type = null, code = null;
        foreach (var (key, value) in observation.MetadataItems)
        {
            if (key == AgentMetadataKeys.FailureType)
            {
                type = value as string;
            }
            else if (key == AgentMetadataKeys.FailureCode)
            {
                code = value as string;
            }
        }

        if (type is not null && code is not null)
        {
            return $"{type}/{code}";
        }

        return observation.Exception?.GetType().Name;
    }

    /// <summary>
    /// Keeps an item under the per-event limit the way the official SDKs do: the largest of input, output and
    /// metadata (and the trace's input and output) is replaced by a marker, repeatedly, until it fits.
    /// </summary>
    private bool Fit(PreparedObservation item)
    {
        var size = Measure(item);
        if (size <= _maxEventBytes)
        {
            item.EstimatedBytes = size;
            return true;
        }

        var original = size;
        var shrunk = new List<string>(2);
        while (size > _maxEventBytes)
        {
            var largest = Largest(item);
            if (largest is null)
            {
                break;
            }

            shrunk.Add(largest);
            switch (largest)
            {
                case "input": item.Input = TruncatedValue; item.InputIsPlainString = true; break;
                case "output": item.Output = TruncatedValue; item.OutputIsPlainString = true; break;
                case "metadata": item.Metadata = TruncatedMetadata; break;
                case "trace input": item.TraceInput = TruncatedValue; item.TraceInputIsPlainString = true; break;
                case "trace output": item.TraceOutput = TruncatedValue; item.TraceOutputIsPlainString = true; break;
            }

            size = Measure(item);
        }

        item.EstimatedBytes = size;
        Log.Shrunk(_logger, original, _maxEventBytes, string.Join(", ", shrunk));
        return size <= _maxEventBytes;
    }

    private static string? Largest(PreparedObservation item)
    {
        string? name = null;
        var best = TruncatedValue.Length + 16;
        Consider("input", item.Input);
        Consider("output", item.Output);
        Consider("metadata", item.Metadata);
        Consider("trace input", item.TraceInput);
        Consider("trace output", item.TraceOutput);
        return name;

        void Consider(string candidate, string? value)
        {
            if (value is not null && value.Length > best)
            {
                best = value.Length;
                name = candidate;
            }
        }
    }

    private static int Measure(PreparedObservation item)
    {
        long size = 256 + Bytes(item.Name) + Bytes(item.Input) + Bytes(item.Output) + Bytes(item.Metadata)
            + Bytes(item.StatusMessage) + Bytes(item.Model) + Bytes(item.ModelParameters) + Bytes(item.UsageDetails)
            + Bytes(item.CostDetails) + Bytes(item.TraceName) + Bytes(item.UserId) + Bytes(item.SessionId)
            + Bytes(item.TraceMetadata) + Bytes(item.TraceInput) + Bytes(item.TraceOutput) + Bytes(item.Release)
            + Bytes(item.Environment) + Bytes(item.Version) + Bytes(item.PromptName)
            + Bytes(item.Exception?.Message) + Bytes(item.Exception?.StackTrace);
        if (item.Tags is { } tags)
        {
            foreach (var tag in tags)
            {
                size += Bytes(tag) + 4;
            }
        }

        return (int)Math.Min(int.MaxValue, size);
    }

    private static int Bytes(string? value) => value is null ? 0 : Encoding.UTF8.GetByteCount(value);

    /// <summary>
    /// A recorded exception's stack trace, then each inner exception's type and stack trace (never their messages, which
    /// may hold user text), cut at a line boundary to <see cref="MaxStackTraceChars"/>.
    /// </summary>
    private static string? BoundedStackTrace(Exception exception)
    {
        var text = new StringBuilder(exception.StackTrace);
        var inner = exception.InnerException;
        for (var depth = 0; inner is not null && depth < 8 && text.Length <= MaxStackTraceChars; depth++, inner = inner.InnerException)
        {
            text.Append(text.Length == 0 ? "" : "\n").Append("--- inner ").Append(inner.GetType().FullName).Append(" ---");
            if (inner.StackTrace is { } innerStack)
            {
                text.Append('\n').Append(innerStack);
            }
        }

        if (text.Length == 0)
        {
            return null;
        }

        if (text.Length <= MaxStackTraceChars)
        {
            return text.ToString();
        }

        var all = text.ToString();
        var cut = all.LastIndexOf('\n', MaxStackTraceChars - 40);
        cut = cut <= 0 ? MaxStackTraceChars - 40 : cut;
        var more = all.AsSpan(cut).Count('\n');
        return string.Create(CultureInfo.InvariantCulture, $"{all.AsSpan(0, cut)}\n   ... ({more} more lines)");
    }

    /// <summary>Adds the exception's type and stack trace to the metadata object (ours win over a user key of the same name).</summary>
    private string WithException(string? metadata, string type, string? stackTrace)
    {
        JsonObject json;
        try
        {
            json = metadata is null ? [] : JsonNode.Parse(metadata) as JsonObject ?? new JsonObject { ["metadata"] = metadata };
        }
        catch (JsonException)
        {
            json = new JsonObject { ["metadata"] = metadata }; // a failed mask's marker is not JSON
        }

        json[ExceptionTypeKey] = type;
        if (stackTrace is not null)
        {
            json[ExceptionStackTraceKey] = stackTrace;
        }

        return json.ToJsonString(_jsonOptions);
    }

    /// <summary>
    /// The mask applied to one piece of free text (a status message, an exception message, a score comment); a mask
    /// that returns a non-string is serialized, one that throws leaves the marker.
    /// </summary>
    private string? MaskText(string? text)
    {
        if (text is null || _mask is null)
        {
            return text;
        }

        object? masked;
        try
        {
            masked = _mask(text);
        }
        catch (Exception ex)
        {
            _maskFailures.Failed(ex);
            return MaskFailedValue;
        }

        return masked as string ?? Value(masked, masked: false).Json;
    }

    /// <summary>Masks (optionally) and serializes a value: strings stay plain, everything else becomes JSON.</summary>
    private (string? Json, bool Plain) Value(object? value, bool masked)
    {
        // Null has no text to hide: the mask never sees it (so a mask written for strings need not handle it).
        if (masked && _mask is not null && value is not null)
        {
            try
            {
                value = _mask(value);
            }
            catch (Exception ex)
            {
                _maskFailures.Failed(ex);
                return (MaskFailedValue, true);
            }
        }

        switch (value)
        {
            case null:
                return (null, false);
            case string s:
                return (s, true);
            case JsonNode node:
                return (node.ToJsonString(_jsonOptions), false);
            case JsonElement element:
                return (element.GetRawText(), false);
            case JsonDocument document:
                return (document.RootElement.GetRawText(), false);
        }

        try
        {
            return _jsonOptions.TryGetTypeInfo(value.GetType(), out var typeInfo)
                ? (JsonSerializer.Serialize(value, typeInfo), false)
                : (NoMetadataMarker(value.GetType()), true);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or JsonException or ArgumentException)
        {
            return ($"<unserializable {value.GetType().Name}: {ex.Message}>", true);
        }
        catch (Exception ex)
        {
            // A property getter of the user's object threw: record that rather than lose the observation.
            return ($"<unserializable {value.GetType().Name}: {ex.GetType().Name}>", true);
        }
    }

    /// <summary>
    /// A JSON object from a few key/value pairs. Without a mask, simple values are written straight with a
    /// <see cref="Utf8JsonWriter"/>; with one, the mask sees a dictionary, as the official SDKs' masks do.
    /// </summary>
    private string? MapJson(ReadOnlySpan<KeyValuePair<string, object?>> items, bool masked)
    {
        if (items.IsEmpty)
        {
            return null;
        }

        if (masked && _mask is not null)
        {
            var dictionary = new Dictionary<string, object?>(items.Length, StringComparer.Ordinal);
            foreach (var (key, value) in items)
            {
                dictionary[key] = value;
            }

            return Value(dictionary, masked: true).Json;
        }

        _buffer.Clear();
        try
        {
            using (var writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = _jsonOptions.Encoder, SkipValidation = true }))
            {
                writer.WriteStartObject();
                foreach (var (key, value) in items)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, value);
                }

                writer.WriteEndObject();
            }

            return Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
        catch (Exception ex)
        {
            // A value whose serialization throws (a getter, an unsupported type): keep the keys, describe the failure.
            return Value(new Dictionary<string, object?> { ["unserializable"] = $"{ex.GetType().Name}: {ex.Message}" }, masked: false).Json;
        }
    }

    private void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case string s: writer.WriteStringValue(s); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case int i: writer.WriteNumberValue(i); break;
            case long l: writer.WriteNumberValue(l); break;
            case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
            case float f when float.IsFinite(f): writer.WriteNumberValue(f); break;
            case decimal m: writer.WriteNumberValue(m); break;
            case JsonElement element: element.WriteTo(writer); break;
            case JsonNode node: node.WriteTo(writer, _jsonOptions); break;
            default:
                if (_jsonOptions.TryGetTypeInfo(value.GetType(), out var typeInfo))
                {
                    JsonSerializer.Serialize(writer, value, typeInfo);
                }
                else
                {
                    writer.WriteStringValue(NoMetadataMarker(value.GetType()));
                }

                break;
        }
    }

    private string WriteUsage(List<KeyValuePair<string, long>> usage) =>
        WriteObject(usage, static (writer, key, count) => writer.WriteNumber(key, count));

    private string WriteCost(ReadOnlySpan<KeyValuePair<string, decimal>> cost) =>
        WriteObject([.. cost], static (writer, key, amount) => writer.WriteNumber(key, amount));

    private string WriteObject<T>(IReadOnlyList<KeyValuePair<string, T>> entries, Action<Utf8JsonWriter, string, T> write)
    {
        _buffer.Clear();
        using (var writer = new Utf8JsonWriter(_buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in entries)
            {
                write(writer, key, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(_buffer.WrittenSpan);
    }
}
