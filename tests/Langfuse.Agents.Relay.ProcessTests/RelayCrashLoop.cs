using System.Text.Json;
using Langfuse.Agents.Testing;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>What a relay crash loop saw.</summary>
internal sealed record RelayCrashLoopResult(int Iterations, long Acknowledged, long Lost, long Duplicates, long MaxItemsPerUpstreamRequest, int RestartFailures)
{
    public override string ToString() =>
        $"iterations={Iterations} acknowledged-items={Acknowledged} lost={Lost} duplicates={Duplicates} " +
        $"max-items-per-upstream-request={MaxItemsPerUpstreamRequest} restart-failures={RestartFailures}";
}

/// <summary>
/// The relay SIGKILLed at random moments under steady load (four clients, OTLP protobuf, protobuf+gzip, JSON and
/// batch, sequenced ids), restarted each time on the same port and buffer directory, with a healthy upstream so
/// kills also land in the middle of forwarding. Afterwards every acknowledged span and event must reach the
/// upstream; duplicates can only come from forwarding requests in flight at a kill (one at a time per relay), so
/// they are bounded by kills times the largest upstream request. A restart that fails is a crash loop. Shared by
/// CrashTests (a few iterations) and bench/Langfuse.Agents.CrashLoop (hundreds).
/// </summary>
internal static class RelayCrashLoop
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    /// <param name="iterations">Kills to make.</param>
    /// <param name="seed">For the random moments.</param>
    /// <param name="bufferDirectory">The relay's buffer directory (kept across restarts).</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="timeBudget">Stop killing after this long (the result says how many kills were made), then check delivery.</param>
    public static async Task<RelayCrashLoopResult> RunAsync(int iterations, int seed, string bufferDirectory, Action<string>? log = null, TimeSpan? timeBudget = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var random = new Random(seed);
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        var config = new RelayConfig(upstream, bufferDirectory);
        RelayProcess? relay = await RelayProcess.StartAsync(config);
        config = config with { Urls = $"http://127.0.0.1:{relay.Port}" };
        var restartFailures = 0;
        var kills = 0;
        await using var load = new LoadClient(relay.BaseUrl, workers: 4, itemsPerRequest: 5, maxRequests: int.MaxValue);
        try
        {
            for (var iteration = 0; iteration < iterations && (timeBudget is null || clock.Elapsed < timeBudget); iteration++)
            {
                if (relay is null)
                {
                    try
                    {
                        relay = await RelayProcess.StartAsync(config);
                    }
                    catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                    {
                        restartFailures++;
                        throw new InvalidOperationException($"iteration {iteration}: the restart failed (a crash loop): {e.Message}", e);
                    }
                }

                // Sometimes right after start (recovery in progress), mostly after a random amount of load.
                var more = random.Next(4) == 0 ? 0 : random.Next(1, 200);
                await load.WaitForAcknowledgedAsync(load.Acknowledged + more, StepTimeout);
                if (relay.HasExited)
                {
                    throw new InvalidOperationException($"iteration {iteration}: the relay exited by itself:\n{relay.Output}");
                }

                await relay.KillAndWaitAsync();
                await relay.DisposeAsync();
                relay = null;
                kills++;
                log?.Invoke($"iteration {iteration}: killed after {load.Acknowledged} acknowledged requests in all");
            }

            relay = await RelayProcess.StartAsync(config);
            await load.StopAsync();
            try
            {
                await Delivery.WaitForAllAsync(upstream, load.AckedSpans, load.AckedEvents, TimeSpan.FromSeconds(60 + (iterations / 2)));
            }
            catch (TimeoutException e)
            {
                log?.Invoke(e.Message);
            }
        }
        finally
        {
            if (relay is not null)
            {
                await relay.DisposeAsync();
            }
        }

        var spanKeys = upstream.Spans.Select(static s => s.TraceId + "/" + s.SpanId).ToList();
        var eventIds = upstream.IngestionEvents.Select(static e => e.Id).ToList();
        var receivedSpans = spanKeys.ToHashSet(StringComparer.Ordinal);
        var receivedEvents = eventIds.ToHashSet(StringComparer.Ordinal);
        var lost = load.AckedSpans.Count(s => !receivedSpans.Contains(s)) + load.AckedEvents.Count(e => !receivedEvents.Contains(e));
        var duplicates = (spanKeys.Count - receivedSpans.Count) + (eventIds.Count - receivedEvents.Count);
        var maxPerRequest = upstream.Requests.Where(static r => r.StatusCode is 200 or 207).Select(ItemsIn).DefaultIfEmpty(0).Max();
        return new RelayCrashLoopResult(kills, load.AckedSpans.Count + load.AckedEvents.Count, lost, duplicates, maxPerRequest, restartFailures);
    }

    /// <summary>Spans (OTLP protobuf or JSON) or events (batch) in one upstream request.</summary>
    private static long ItemsIn(ReceivedRequest request)
    {
        try
        {
            if (request.Path == FakeLangfuseServer.OtlpPath && request.ContentType?.Contains("protobuf", StringComparison.Ordinal) == true)
            {
                return ExportTraceServiceRequest.Parser.ParseFrom(request.Body).ResourceSpans.Sum(rs => rs.ScopeSpans.Sum(ss => ss.Spans.Count));
            }

            using var json = JsonDocument.Parse(request.Body);
            if (request.Path == FakeLangfuseServer.IngestionPath)
            {
                return json.RootElement.GetProperty("batch").GetArrayLength();
            }

            return json.RootElement.GetProperty("resourceSpans").EnumerateArray()
                .Sum(rs => rs.GetProperty("scopeSpans").EnumerateArray().Sum(ss => ss.GetProperty("spans").GetArrayLength()));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or Google.Protobuf.InvalidProtocolBufferException)
        {
            return 0;
        }
    }
}
