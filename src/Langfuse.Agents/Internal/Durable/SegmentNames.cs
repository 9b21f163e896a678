using System.Globalization;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Segment and temporary file names: <c>{utcTicks:D19}-{processId:D10}-{counter:D10}.lfq</c>, so ordinal name order
/// is creation order (ticks strictly increase within a queue; the process-wide counter keeps names unique), and
/// <c>&lt;segment&gt;.&lt;pid&gt;.tmp</c> while one is written.
/// </summary>
internal static class SegmentNames
{
    public const string SegmentExtension = ".lfq";
    public const string TemporaryExtension = ".tmp";

    private static long s_counter;

    /// <summary>A new name after <paramref name="lastTicks"/> (updated), from the clock.</summary>
    public static string Next(TimeProvider time, ref long lastTicks)
    {
        var ticks = Math.Max(time.GetUtcNow().UtcTicks, lastTicks + 1);
        lastTicks = ticks;
        var counter = Interlocked.Increment(ref s_counter);
        return string.Create(CultureInfo.InvariantCulture, $"{ticks:D19}-{Environment.ProcessId:D10}-{counter:D10}{SegmentExtension}");
    }

    /// <summary>The temporary file this process writes a segment through.</summary>
    public static string Temporary(string segmentPath) =>
        string.Create(CultureInfo.InvariantCulture, $"{segmentPath}.{Environment.ProcessId}{TemporaryExtension}");

    /// <summary>True for a name this queue writes (<c>{19 digits}-{digits}-{digits}.lfq</c>); anything else in the directory is left alone.</summary>
    public static bool IsSegment(string name)
    {
        if (!name.EndsWith(SegmentExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = name[..^SegmentExtension.Length].Split('-');
        return parts.Length == 3 && parts[0].Length == 19 && parts.All(static p => p.Length > 0 && p.All(char.IsAsciiDigit));
    }

    /// <summary>The creation ticks a segment name starts with (0 when it has none).</summary>
    public static long Ticks(string name) =>
        name.Length > 19 && long.TryParse(name.AsSpan(0, 19), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : 0;

    /// <summary>The writer's process id in a temporary file's name, when it has one.</summary>
    public static bool TryGetTemporaryWriter(string name, out int processId)
    {
        processId = 0;
        if (!name.EndsWith(TemporaryExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var stem = name[..^TemporaryExtension.Length];
        var dot = stem.LastIndexOf('.');
        return dot >= 0 && int.TryParse(stem.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out processId);
    }
}
