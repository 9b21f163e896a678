using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Langfuse.Agents.Testing.Otlp.Collector.Trace.V1;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>What a crash loop saw.</summary>
internal sealed record CrashLoopResult(int Iterations, int KilledMidway, long Acknowledged, long Lost, long Duplicates, long MaxInFlightItems, long StillOnDisk = 0)
{
    public override string ToString() =>
        $"iterations={Iterations} killed-midway={KilledMidway} buffered={Acknowledged} lost={Lost} still-on-disk={StillOnDisk} " +
        $"duplicates={Duplicates} max-items-per-request={MaxInFlightItems}";
}

/// <summary>
/// The SDK with <c>LANGFUSE_BUFFER_WRITE_AHEAD</c> on, killed with SIGKILL at random moments while it ends spans with
/// sequenced names (Langfuse.Agents.DurableCrashApp <c>sdk</c>): every span it counted as buffered before the kill
/// must reach Langfuse once a later process delivers the buffer; duplicates come only from a request in flight at a
/// kill. Shared by the CI test (a few iterations) and bench/Langfuse.Agents.CrashLoop (hundreds).
/// </summary>
internal static class SdkCrashLoop
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    public static async Task<CrashLoopResult> RunAsync(int iterations, int seed, string bufferDirectory, Action<string>? log = null)
    {
        var random = new Random(seed);
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V4 });
        string[] keys = [upstream.BaseUrl.ToString(), upstream.PublicKey, upstream.SecretKey];
        var expected = new HashSet<string>(StringComparer.Ordinal);
        var killedMidway = 0;
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            var first = iteration * 1_000_000;
            var target = random.Next(1, 3_000);
            using var child = DurableChild.Start(["sdk", bufferDirectory, .. keys, $"{first}", "900000"]);
            await DurableChild.WaitUntilAsync(
                () => Buffered(child) >= target || child.Process.HasExited,
                StepTimeout,
                $"iteration {iteration}: {target} spans buffered",
                child);
            child.KillHard();
            if (child.Process.ExitCode == 128 + 9)
            {
                killedMidway++;
            }

            // A slow attempt on a loaded machine makes the SDK warn once that delivery is failing; with write-ahead
            // that loses nothing (the spans are already on disk), and the loop checks the spans themselves below. Any
            // other warning, error or drop is a failure of the run.
            var problems = child.Lines.Where(static l => l.StartsWith("dropped", StringComparison.Ordinal) || (l.StartsWith("stderr", StringComparison.Ordinal) && !l.Contains(" info: ", StringComparison.Ordinal) && !l.Contains(" warn: Langfuse delivery is failing (", StringComparison.Ordinal))).ToList();
            if (problems.Count > 0)
            {
                throw new InvalidOperationException($"iteration {iteration}: the child dropped data or failed: {string.Join(" | ", problems.Take(5))}");
            }

            var buffered = Buffered(child);
            for (var n = first; n < first + buffered; n++)
            {
                expected.Add($"span-{n}");
            }

            log?.Invoke($"iteration {iteration}: {buffered} spans counted as buffered before SIGKILL");
        }

        // A later process on the same buffer delivers everything the killed ones counted as buffered; it is given time
        // for as long as delivery makes progress.
        using (var deliverer = DurableChild.Start(["deliver", bufferDirectory, .. keys]))
        {
            var seen = -1;
            while (true)
            {
                try
                {
                    await upstream.WaitUntilAsync(s => expected.IsSubsetOf(s.Spans.Select(static x => x.Name)), TimeSpan.FromSeconds(30), "every span counted as buffered to arrive");
                    break;
                }
                catch (TimeoutException)
                {
                    if (upstream.Spans.Count == seen)
                    {
                        break; // no progress for 30 s: what is missing is counted below
                    }

                    seen = upstream.Spans.Count;
                }
            }

            await deliverer.StopAsync();
        }

        // Not delivered is not lost while it is still on disk: read what the buffer holds.
        var onDisk = new HashSet<string>(StringComparer.Ordinal);
        foreach (var directory in Directory.GetDirectories(bufferDirectory))
        {
            using var queue = new DurableQueue(new DurableQueueOptions { Directory = directory });
            while (queue.TryTakeOldest(out var segment))
            {
                foreach (var record in segment!.Records.Where(static r => r.Kind == PayloadKind.OtlpTraces))
                {
                    foreach (var span in ExportTraceServiceRequest.Parser.ParseFrom(record.Payload.Span).ResourceSpans.SelectMany(static rs => rs.ScopeSpans).SelectMany(static ss => ss.Spans))
                    {
                        onDisk.Add(span.Name);
                    }
                }

                // Kept taken (not completed, not released), so the next take moves on and nothing is deleted.
            }
        }

        var names = upstream.Spans.Select(static s => s.Name).ToList();
        var received = names.ToHashSet(StringComparer.Ordinal);
        var lost = expected.Count(name => !received.Contains(name) && !onDisk.Contains(name));
        var stillOnDisk = expected.Count(name => !received.Contains(name) && onDisk.Contains(name));
        var maxPerRequest = upstream.Requests
            .Where(static r => r.Path == FakeLangfuseServer.OtlpPath && r.StatusCode == 200)
            .Select(static r => (long)ExportTraceServiceRequest.Parser.ParseFrom(r.Body).ResourceSpans.Sum(rs => rs.ScopeSpans.Sum(ss => ss.Spans.Count)))
            .DefaultIfEmpty(0)
            .Max();
        return new CrashLoopResult(iterations, killedMidway, expected.Count, lost, names.Count - received.Count, maxPerRequest, stillOnDisk);
    }

    private static int Buffered(DurableChild child) => child.Numbers("buffered").DefaultIfEmpty(0).Max();
}
