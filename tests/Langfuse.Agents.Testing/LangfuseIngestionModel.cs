using Langfuse.Agents.Testing.Internal;

namespace Langfuse.Agents.Testing;

/// <summary>
/// The parts of Langfuse's own server-side ingestion that read our requests, ported so that tests assert on what
/// Langfuse would show rather than on what our encoder wrote. Written from the Langfuse server (langfuse/langfuse):
/// <list type="bullet">
/// <item><see cref="FromOtlp"/>: <c>OtelIngestionProcessor.processToEvent</c> (packages/shared/src/server/otel), which
/// turns each span into a v4 observation row (attribute lookups, level and status, usage and cost, trace attributes
/// per row, metadata merged and flattened), and the v4 trace view <c>adaptEventsToTraceFormat</c> (web), which
/// synthesizes a trace from its rows: start = the earliest observation, name and trace attributes from the root.</item>
/// <item><see cref="FromBatch"/>: the batch path of <c>IngestionService</c> (worker), which merges upserts per entity
/// (trace <c>timestamp</c> and <c>environment</c>, observation <c>traceId</c>, <c>startTime</c> and <c>environment</c>
/// are fixed by the first write and never overwritten; later non-null fields win; metadata merges; tags union;
/// input and output are the last non-null ones), and takes trace input and output only from <c>trace-create</c>.</item>
/// <item>Both: the <c>UsageDetails</c> zod union (raw buckets, or OpenAI usage shapes whose details are subtracted
/// from input and output), <c>getUsageUnits</c> (a <c>total</c> is added as the sum when none was sent) and
/// <c>warnOnUsageTotalMismatch</c> (warns when the non-total buckets add up to more than the total sent).</item>
/// </list>
/// Span events (such as OTLP <c>exception</c>) are read by none of it, so they show nowhere. Scores are not modelled.
/// </summary>
/// <remarks>
/// Simplifications, each harmless for requests of one SDK: batch events are merged in arrival order (Langfuse sorts
/// one request's events of an entity by envelope timestamp; our encoder sends each entity at most once per request);
/// observation types come from <c>langfuse.observation.type</c> or span kind conventions only, not from every
/// third-party framework's attributes; the OTLP path is Langfuse v4 (Cloud), which our exporter selects with
/// <c>x-langfuse-ingestion-version: 4</c>.
/// </remarks>
public static class LangfuseIngestionModel
{
    /// <summary>Langfuse's warning when the non-total usage buckets add up to more than the total sent.</summary>
    public const string UsageTotalMismatchWarning = "Sum of provided non-total usage_details buckets exceeds provided total";

    /// <summary>Langfuse's warning when usage details fail its schema (they are then dropped).</summary>
    public const string InvalidUsageWarning = "Invalid usage details";

    /// <summary>What Langfuse v4 shows for accepted OTLP spans (for example <see cref="FakeLangfuseServer.Spans"/>).</summary>
    /// <param name="spans">The spans, in arrival order.</param>
    /// <returns>Traces, observation rows and warnings.</returns>
    public static IngestedView FromOtlp(IEnumerable<ReceivedSpan> spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
        return OtlpIngestion.Read(spans);
    }

    /// <summary>What Langfuse (v2/v3 batch path) shows for accepted batch events (for example <see cref="FakeLangfuseServer.IngestionEvents"/>).</summary>
    /// <param name="events">The events, in arrival order.</param>
    /// <returns>Traces, observation rows and warnings.</returns>
    public static IngestedView FromBatch(IEnumerable<ReceivedEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        return BatchIngestion.Read(events);
    }
}
