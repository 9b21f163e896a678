using System.Globalization;
using System.Text.Json;

namespace Langfuse.Agents.Testing.Internal;

/// <summary>
/// Langfuse's batch path (v2/v3), ported from <c>IngestionService</c> (worker/src/services/IngestionService):
/// upserts merged per entity, immutable keys fixed by the first write (<c>immutableEntityKeys</c>), later non-null
/// fields win, metadata merges, tags union, input and output are the last non-null values; a trace's input and
/// output come only from its <c>trace-create</c> events.
/// </summary>
internal static class BatchIngestion
{
    public static IngestedView Read(IEnumerable<ReceivedEvent> events)
    {
        var traces = new Dictionary<string, TraceState>(StringComparer.Ordinal);
        var observations = new Dictionary<string, ObservationState>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var ev in events)
        {
            var id = ev.BodyId;
            if (id is null)
            {
                continue; // dropped by Langfuse (answered 201)
            }

            if (ev.Type == "trace-create")
            {
                if (!traces.TryGetValue(id, out var trace))
                {
                    traces[id] = trace = new TraceState(id);
                }

                trace.Merge(ev);
            }
            else if (IngestionValidator.ObservationEventTypes.Contains(ev.Type))
            {
                if (!observations.TryGetValue(id, out var observation))
                {
                    observations[id] = observation = new ObservationState(id, TypeOf(ev.Type));
                    order.Add(id);
                }

                observation.Merge(ev);
            }
        }

        var warnings = new List<string>();
        var rows = order.Select(id => observations[id].ToRow(warnings)).ToList();
        var traceRows = traces.Values.Select(t => t.ToTrace()).ToList();

        // Observations of SDKs before 2.0 carry no traceId: Langfuse wraps each in a trace of its own id.
        foreach (var row in rows.Where(r => r.TraceId == r.Id && !traces.ContainsKey(r.Id)))
        {
            traceRows.Add(new IngestedTrace { Id = row.Id, Timestamp = row.StartTime, Environment = row.Environment });
        }

        return new IngestedView(traceRows, rows, warnings);
    }

    private static string TypeOf(string eventType) => eventType[..eventType.IndexOf('-', StringComparison.Ordinal)].ToUpperInvariant();

    private static string? String(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
            ? MetadataValues.Stringify(value)
            : null;

    private static DateTimeOffset? Date(JsonElement body, string name) =>
        String(body, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? OtlpIngestion.Millis(value)
            : null;

    private static void MergeMetadata(Dictionary<string, string> into, JsonElement body)
    {
        if (body.TryGetProperty("metadata", out var metadata))
        {
            foreach (var (key, value) in MetadataValues.TopLevel(metadata))
            {
                into[key] = value;
            }
        }
    }

    private sealed class TraceState(string id)
    {
        private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
        private readonly List<string> _tags = [];
        private DateTimeOffset? _timestamp;
        private string? _environment;
        private string? _name, _userId, _sessionId, _release, _version, _input, _output;
        private bool _public;

        public void Merge(ReceivedEvent ev)
        {
            var body = ev.Body;
            _timestamp ??= Date(body, "timestamp") ?? (ev.ParsedTimestamp is { } envelope ? OtlpIngestion.Millis(envelope) : null);
            _environment ??= String(body, "environment");
            _name = String(body, "name") ?? _name;
            _userId = String(body, "userId") ?? _userId;
            _sessionId = String(body, "sessionId") ?? _sessionId;
            _release = String(body, "release") ?? _release;
            _version = String(body, "version") ?? _version;
            _input = String(body, "input") ?? _input;
            _output = String(body, "output") ?? _output;
            if (body.TryGetProperty("public", out var isPublic) && isPublic.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                _public = isPublic.GetBoolean();
            }

            if (body.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array)
            {
                foreach (var tag in tags.EnumerateArray().Select(MetadataValues.Stringify).Where(t => !_tags.Contains(t)))
                {
                    _tags.Add(tag);
                }
            }

            MergeMetadata(_metadata, body);
        }

        public IngestedTrace ToTrace() => new()
        {
            Id = id,
            Timestamp = _timestamp ?? DateTimeOffset.UnixEpoch,
            Name = _name,
            UserId = _userId,
            SessionId = _sessionId,
            Tags = [.. _tags],
            Release = _release,
            Version = _version,
            Environment = _environment ?? "default",
            Public = _public,
            Input = _input,
            Output = _output,
            Metadata = new Dictionary<string, string>(_metadata),
        };
    }

    private sealed class ObservationState(string id, string type)
    {
        private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
        private Dictionary<string, long?>? _usage;
        private Dictionary<string, decimal>? _cost;
        private string? _traceId, _environment;
        private DateTimeOffset? _startTime;
        private string? _parent, _name, _level, _statusMessage, _version, _model, _promptName, _input, _output;
        private long? _promptVersion;
        private DateTimeOffset? _endTime, _completionStartTime;
        private bool _invalidUsage;

        public void Merge(ReceivedEvent ev)
        {
            var body = ev.Body;
            _traceId ??= String(body, "traceId");
            _environment ??= String(body, "environment");
            _startTime ??= Date(body, "startTime") ?? (ev.ParsedTimestamp is { } envelope ? OtlpIngestion.Millis(envelope) : null);
            _parent = String(body, "parentObservationId") ?? _parent;
            _name = String(body, "name") ?? _name;
            _endTime = Date(body, "endTime") ?? _endTime;
            _completionStartTime = Date(body, "completionStartTime") ?? _completionStartTime;
            _level = String(body, "level") ?? _level;
            _statusMessage = String(body, "statusMessage") ?? _statusMessage;
            _version = String(body, "version") ?? _version;
            _model = String(body, "model") ?? _model;
            _promptName = String(body, "promptName") ?? _promptName;
            _promptVersion = body.TryGetProperty("promptVersion", out var pv) && pv.ValueKind == JsonValueKind.Number && pv.TryGetInt64(out var version)
                ? version
                : _promptVersion;
            _input = String(body, "input") ?? _input;
            _output = String(body, "output") ?? _output;
            MergeMetadata(_metadata, body);
            MergeUsage(body);
        }

        public IngestedObservation ToRow(List<string> warnings)
        {
            if (_invalidUsage)
            {
                warnings.Add($"{LangfuseIngestionModel.InvalidUsageWarning} for observation {id}");
            }

            var start = _startTime ?? DateTimeOffset.UnixEpoch;
            return new IngestedObservation
            {
                Id = id,
                TraceId = _traceId ?? id,
                ParentObservationId = _parent,
                Type = type,
                Name = _name,
                StartTime = start,
                EndTime = _endTime < start ? start : _endTime,
                CompletionStartTime = _completionStartTime,
                Level = _level ?? "DEFAULT",
                StatusMessage = _statusMessage,
                Input = _input,
                Output = _output,
                Metadata = new Dictionary<string, string>(_metadata),
                Model = _model,
                UsageDetails = UsageProcessing.Finalize(_usage, id, warnings),
                CostDetails = _cost ?? [],
                PromptName = _promptName,
                PromptVersion = _promptVersion,
                Version = _version,
                Environment = _environment ?? "default",
            };
        }

        /// <summary>
        /// <c>mapObservationEventsToRecords</c>: the legacy <c>usage</c> object (input/output/total or the older
        /// promptTokens/completionTokens/totalTokens, with costs) merged with <c>usageDetails</c>, which wins per key.
        /// </summary>
        private void MergeUsage(JsonElement body)
        {
            var usage = new Dictionary<string, long?>(StringComparer.Ordinal);
            var cost = new Dictionary<string, decimal>(StringComparer.Ordinal);
            if (body.TryGetProperty("usage", out var legacy) && legacy.ValueKind == JsonValueKind.Object)
            {
                Count(legacy, "input", "promptTokens", "input");
                Count(legacy, "output", "completionTokens", "output");
                Count(legacy, "total", "totalTokens", "total");
                Amount(legacy, "inputCost", "input");
                Amount(legacy, "outputCost", "output");
                Amount(legacy, "totalCost", "total");
                if (!usage.ContainsKey("total") && !body.TryGetProperty("usageDetails", out _))
                {
                    var input = usage.GetValueOrDefault("input");
                    var output = usage.GetValueOrDefault("output");
                    if (input is not null || output is not null)
                    {
                        usage["total"] = (input ?? 0) + (output ?? 0);
                    }
                }
            }

            if (body.TryGetProperty("usageDetails", out var details) && details.ValueKind != JsonValueKind.Null)
            {
                if (UsageProcessing.Parse(details) is { } parsed)
                {
                    foreach (var (key, value) in parsed.Where(kv => kv.Value is not null))
                    {
                        usage[key] = value;
                    }
                }
                else
                {
                    _invalidUsage = true;
                }
            }

            if (body.TryGetProperty("costDetails", out var costDetails) && costDetails.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in costDetails.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetDecimal(out var amount))
                    {
                        cost[property.Name] = amount;
                    }
                }
            }

            if (usage.Count > 0)
            {
                _usage = usage;
            }

            if (cost.Count > 0)
            {
                _cost = cost;
            }

            void Count(JsonElement source, string name, string alias, string bucket)
            {
                if ((source.TryGetProperty(name, out var value) || source.TryGetProperty(alias, out value))
                    && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count))
                {
                    usage[bucket] = count;
                }
            }

            void Amount(JsonElement source, string name, string bucket)
            {
                if (source.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var amount))
                {
                    cost[bucket] = amount;
                }
            }
        }
    }
}
