using System.Globalization;
using System.Text;
using System.Text.Json;
using Langfuse.Agents;

namespace ResearchAgents;

/// <summary>
/// Prints what a <see cref="LangfuseCapture"/> recorded as one tree per trace, with durations, token usage,
/// errors and scores: the same structure Langfuse shows, without needing a Langfuse account.
/// </summary>
internal static class TraceTreePrinter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Print(LangfuseCapture capture, TextWriter writer)
    {
        var scores = capture.Scores;
        var traces = capture.Observations
            .GroupBy(o => o.TraceId)
            .OrderBy(g => g.Min(o => o.StartTime));

        foreach (var trace in traces)
        {
            PrintTrace([.. trace], [.. scores.Where(s => s.TraceId == trace.Key)], writer);
            writer.WriteLine();
        }
    }

    private static void PrintTrace(List<LangfuseObservation> observations, List<LangfuseScore> scores, TextWriter writer)
    {
        var ids = observations.Select(o => o.Id).ToHashSet();
        var children = observations
            .Where(o => o.ParentId is not null && ids.Contains(o.ParentId))
            .ToLookup(o => o.ParentId!);
        var roots = observations.Where(o => o.ParentId is null || !ids.Contains(o.ParentId)).OrderBy(o => o.StartTime).ToList();

        var info = observations[0].Trace;
        var header = new StringBuilder().Append(Invariant, $"trace {info.Id[..8]}... {info.Name}");

        // The root span carries the trace's name: show it as the header rather than as one more level.
        var top = roots;
        if (roots is [var root] && root.Name == info.Name)
        {
            header.Append(Invariant, $" {Duration(root)}");
            if (root.Level == ObservationLevel.Error)
            {
                header.Append(Invariant, $" ERROR {root.StatusMessage}");
            }

            top = Ordered(children[root.Id]);
        }

        header.Append(Invariant, $" (session {info.SessionId ?? "-"}, user {info.UserId ?? "-"})");
        writer.WriteLine(header);
        if (roots.FirstOrDefault()?.Input is string query)
        {
            writer.WriteLine($"   \"{query}\"");
        }

        PrintChildren(top, children, "", writer);

        var generations = observations.OfType<LangfuseGeneration>().ToList();
        var tokens = generations.Sum(g => g.Usage.GetValueOrDefault("total"));
        var cost = generations.Sum(g => g.Cost.GetValueOrDefault("total"));
        writer.WriteLine(string.Create(Invariant, $"   {observations.Count} observations, {generations.Count} generations, {tokens} tokens, ${cost:0.######}"));
        if (scores.Count > 0)
        {
            writer.WriteLine("   score " + string.Join(" ; ", scores.Select(s => string.Create(Invariant, $"{s.Name} = {s.Value}"))));
        }
    }

    private static void PrintChildren(List<LangfuseObservation> nodes, ILookup<string, LangfuseObservation> children, string indent, TextWriter writer)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var last = i == nodes.Count - 1;
            writer.WriteLine(indent + (last ? "└─ " : "├─ ") + Describe(nodes[i]));
            PrintChildren(Ordered(children[nodes[i].Id]), children, indent + (last ? "   " : "│  "), writer);
        }
    }

    private static List<LangfuseObservation> Ordered(IEnumerable<LangfuseObservation> nodes) => [.. nodes.OrderBy(o => o.StartTime)];

    private static string Describe(LangfuseObservation o)
    {
        var line = new StringBuilder(o.Name).Append(" [").Append(o.Type.ToString().ToLowerInvariant());
        if (o is LangfuseGeneration { Model: { } model })
        {
            line.Append(' ').Append(model);
        }

        line.Append(']');
        if (o.Type != ObservationType.Event)
        {
            line.Append(' ').Append(Duration(o));
        }

        if (o.Level is ObservationLevel.Error or ObservationLevel.Warning)
        {
            line.Append(' ').Append(o.Level.ToString().ToUpperInvariant()).Append(' ').Append(o.StatusMessage);
        }

        if (o is LangfuseGeneration generation && generation.Usage.Count > 0)
        {
            var usage = generation.Usage;
            line.Append(Invariant, $"  tokens {usage.GetValueOrDefault("input")}→{usage.GetValueOrDefault("output")} ({usage.GetValueOrDefault("total")})");
            if (usage.GetValueOrDefault("cached_input") is var cached and > 0)
            {
                line.Append(Invariant, $", {cached} cached");
            }

            if (generation.CompletionStartTime is { } firstToken)
            {
                line.Append(Invariant, $", first token {(firstToken - o.StartTime).TotalMilliseconds:0.00} ms");
            }

            if (generation.Cost.TryGetValue("total", out var cost))
            {
                line.Append(Invariant, $", ${cost:0.######}");
            }
        }

        if (o.Type == ObservationType.Event && o.Output is not null)
        {
            line.Append(" → ").Append(Compact(o.Output));
        }

        if (o.Metadata.TryGetValue("attempt", out var attempt))
        {
            line.Append(Invariant, $" (attempt {attempt})");
        }

        return line.ToString();
    }

    private static string Duration(LangfuseObservation o) =>
        o.EndTime is { } end ? string.Create(Invariant, $"{(end - o.StartTime).TotalMilliseconds:0.00} ms") : "(open)";

    private static string Compact(object value)
    {
        var text = value as string ?? JsonSerializer.Serialize(value);
        return text.Length <= 110 ? text : text[..107] + "...";
    }
}
