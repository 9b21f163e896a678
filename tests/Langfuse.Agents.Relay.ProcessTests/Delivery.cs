using System.Diagnostics;
using Langfuse.Agents.Testing;

namespace Langfuse.Agents.Relay.ProcessTests;

internal static class Delivery
{
    /// <summary>
    /// Completes once every span (<c>traceId/spanId</c>) and every batch event (envelope id) given has reached
    /// <paramref name="upstream"/>; driven by the upstream's own "request recorded" signal. Fails when
    /// <paramref name="timeout"/> passes with no further item arriving: a loaded 2-core machine drains slower, but a
    /// relay that lost or stopped forwarding something makes no progress on it, so the assertion stays as strong.
    /// </summary>
    public static async Task WaitForAllAsync(FakeLangfuseServer upstream, IEnumerable<string> spans, IEnumerable<string> events, TimeSpan timeout, Func<string>? context = null)
    {
        var wantedSpans = spans.ToHashSet(StringComparer.Ordinal);
        var wantedEvents = events.ToHashSet(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        var fewestMissing = int.MaxValue;
        while (true)
        {
            var requests = upstream.Requests.Count;
            var (missingSpans, missingEvents) = Missing(upstream, wantedSpans, wantedEvents);
            if (missingSpans.Count + missingEvents.Count == 0)
            {
                return;
            }

            if (missingSpans.Count + missingEvents.Count < fewestMissing)
            {
                fewestMissing = missingSpans.Count + missingEvents.Count;
                clock.Restart(); // progress: the budget counts from the last item that arrived
            }

            var left = timeout - clock.Elapsed;
            try
            {
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException();
                }

                await upstream.WaitForRequestsAsync(requests + 1, left);
            }
            catch (TimeoutException)
            {
                (missingSpans, missingEvents) = Missing(upstream, wantedSpans, wantedEvents);
                if (missingSpans.Count + missingEvents.Count == 0)
                {
                    return;
                }

                throw new TimeoutException(
                    $"After {timeout} with no further item arriving: {missingSpans.Count} of {wantedSpans.Count} acknowledged span(s) and {missingEvents.Count} of " +
                    $"{wantedEvents.Count} acknowledged event(s) never reached the upstream (e.g. {string.Join(", ", missingSpans.Concat(missingEvents).Take(5))}).\n" +
                    $"Upstream: {Summary(upstream)}\n{context?.Invoke()}");
            }
        }
    }

    public static string Summary(FakeLangfuseServer upstream)
    {
        var requests = upstream.Requests;
        var statuses = string.Join(", ", requests.GroupBy(r => $"{r.Path} {r.StatusCode}").Select(g => $"{g.Key} x{g.Count()}"));
        return $"{requests.Count} request(s) [{statuses}], {upstream.Spans.Count} span(s), {upstream.IngestionEvents.Count} event(s)";
    }

    private static (List<string> Spans, List<string> Events) Missing(FakeLangfuseServer upstream, HashSet<string> spans, HashSet<string> events)
    {
        var receivedSpans = upstream.Spans.Select(s => s.TraceId + "/" + s.SpanId).ToHashSet(StringComparer.Ordinal);
        var receivedEvents = upstream.IngestionEvents.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        return ([.. spans.Where(s => !receivedSpans.Contains(s))], [.. events.Where(e => !receivedEvents.Contains(e))]);
    }
}
