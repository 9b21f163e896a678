using System.Text.Json;
using Langfuse.Agents.Testing;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>What a relay crash loop saw.</summary>
/// <param name="Iterations">Kills made.</param>
/// <param name="Acknowledged">Items the relay acknowledged.</param>
/// <param name="Lost">Acknowledged items that never reached the upstream.</param>
/// <param name="Duplicates">Items the upstream received more than once (each extra copy counted).</param>
/// <param name="MaxItemsPerUpstreamRequest">The largest upstream request, in items.</param>
/// <param name="InFlightAtKills">
/// The bound on duplicates: for each kill, the items of the last request the killed relay had delivered upstream
/// (the one it may not have settled when it died; it sends one request at a time), summed over the kills.
/// </param>
/// <param name="RestartFailures">Restarts that failed (a crash loop).</param>
/// <param name="StillOnDisk">Acknowledged items not delivered when delivery stopped making progress, but still in the buffer (not lost).</param>
internal sealed record RelayCrashLoopResult(int Iterations, long Acknowledged, long Lost, long Duplicates, long MaxItemsPerUpstreamRequest, long InFlightAtKills, int RestartFailures, long StillOnDisk = 0)
{
    public override string ToString() =>
        $"iterations={Iterations} acknowledged-items={Acknowledged} lost={Lost} still-on-disk={StillOnDisk} duplicates={Duplicates} " +
        $"in-flight-at-kills={InFlightAtKills} max-items-per-upstream-request={MaxItemsPerUpstreamRequest} restart-failures={RestartFailures}";
}

/// <summary>
/// The relay SIGKILLed at random moments under steady load (four clients, OTLP protobuf, protobuf+gzip, JSON and
/// batch, sequenced ids), restarted each time on the same port and buffer directory, with a healthy upstream so
/// kills also land in the middle of forwarding. Afterwards every acknowledged span and event must reach the
/// upstream; duplicates can only come from the forwarding request in flight at each kill (one at a time per relay:
/// the forwarder records its progress on disk after every request), so they are bounded by the items of those
/// requests (<see cref="RelayCrashLoopResult.InFlightAtKills"/>). A restart that fails is a crash loop. Shared by
/// CrashTests (a few iterations) and bench/Langfuse.Agents.CrashLoop (hundreds).
/// </summary>
internal static class RelayCrashLoop
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ProgressWindow = TimeSpan.FromSeconds(30);

    /// <param name="iterations">Kills to make.</param>
    /// <param name="seed">For the random moments.</param>
    /// <param name="bufferDirectory">The relay's buffer directory (kept across restarts).</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="timeBudget">Stop killing after this long (the result says how many kills were made), then check delivery.</param>
    /// <param name="readBuffer">
    /// Reads what the buffer directory still holds once the relay is stopped (span keys <c>traceId/spanId</c> and event
    /// ids): what delivery did not reach in time but is still on disk is not lost. The bench tool passes one; the CI
    /// test requires everything delivered.
    /// </param>
    public static async Task<RelayCrashLoopResult> RunAsync(
        int iterations,
        int seed,
        string bufferDirectory,
        Action<string>? log = null,
        TimeSpan? timeBudget = null,
        Func<string, (IReadOnlySet<string> Spans, IReadOnlySet<string> Events)>? readBuffer = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var random = new Random(seed);
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        var config = new RelayConfig(upstream, bufferDirectory);
        RelayProcess? relay = await RelayProcess.StartAsync(config);
        config = config with { Urls = $"http://127.0.0.1:{relay.Port}" };
        var restartFailures = 0;
        var kills = 0;
        var killedRelayRequests = new List<int>(); // upstream.Requests.Count once each killed relay's requests were all recorded
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
                // The dead relay's connections close once the upstream has read and recorded all it had sent.
                await upstream.WaitUntilAsync(static s => s.OpenConnections == 0, StepTimeout, "the killed relay's upstream connections to close");
                killedRelayRequests.Add(upstream.Requests.Count);
                log?.Invoke($"iteration {iteration}: killed after {load.Acknowledged} acknowledged requests in all");
            }

            relay = await RelayProcess.StartAsync(config);
            await load.StopAsync();
            // The last relay is given time for as long as delivery makes progress (a backlog on a loaded machine is slow,
            // not lost); no progress for a whole window ends the wait, and what is missing is counted below.
            var delivered = -1L;
            while (true)
            {
                try
                {
                    await Delivery.WaitForAllAsync(upstream, load.AckedSpans, load.AckedEvents, ProgressWindow);
                    break;
                }
                catch (TimeoutException e)
                {
                    var now = (long)upstream.Spans.Count + upstream.IngestionEvents.Count;
                    if (now == delivered)
                    {
                        log?.Invoke(e.Message);
                        break;
                    }

                    delivered = now;
                    log?.Invoke($"delivery still in progress: {now} items received upstream");
                }
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
        var missingSpans = load.AckedSpans.Where(s => !receivedSpans.Contains(s)).ToList();
        var missingEvents = load.AckedEvents.Where(e => !receivedEvents.Contains(e)).ToList();
        long stillOnDisk = 0;
        if (readBuffer is not null && missingSpans.Count + missingEvents.Count > 0)
        {
            var (bufferedSpans, bufferedEvents) = readBuffer(bufferDirectory); // the relay is stopped: the buffer is as it left it
            stillOnDisk = missingSpans.Count(bufferedSpans.Contains) + missingEvents.Count(bufferedEvents.Contains);
        }

        var lost = missingSpans.Count + missingEvents.Count - stillOnDisk;
        var duplicates = (spanKeys.Count - receivedSpans.Count) + (eventIds.Count - receivedEvents.Count);
        var requests = upstream.Requests;
        var maxPerRequest = requests.Where(Delivered).Select(ItemsIn).DefaultIfEmpty(0).Max();
        return new RelayCrashLoopResult(kills, load.AckedSpans.Count + load.AckedEvents.Count, lost, duplicates, maxPerRequest, InFlightAtKills(requests, killedRelayRequests), restartFailures, stillOnDisk);
    }

    /// <summary>
    /// For each killed relay (its requests are those recorded after the previous kill's, up to its own count), the items
    /// of the last request it delivered: the one whose answer it may not have settled on disk when it died.
    /// </summary>
    private static long InFlightAtKills(IReadOnlyList<ReceivedRequest> requests, List<int> killedRelayRequests)
    {
        long bound = 0;
        var start = 0;
        foreach (var end in killedRelayRequests)
        {
            for (var i = end - 1; i >= start; i--)
            {
                if (requests[i].Path is FakeLangfuseServer.OtlpPath or FakeLangfuseServer.IngestionPath)
                {
                    bound += Delivered(requests[i]) ? ItemsIn(requests[i]) : 0;
                    break;
                }
            }

            start = end;
        }

        return bound;
    }

    private static bool Delivered(ReceivedRequest request) => request.StatusCode is 200 or 207;

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
