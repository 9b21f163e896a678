namespace Langfuse.Agents.Fuzz;

/// <summary>A fuzz target: throws (or crashes) only on a bug.</summary>
internal delegate void FuzzTarget(ReadOnlySpan<byte> input);

/// <summary>Every target by name. A target throws on a bug: any exception the parser was not meant to throw.</summary>
internal static partial class FuzzTargets
{
    public static readonly Dictionary<string, FuzzTarget> All = new(StringComparer.Ordinal);

    static FuzzTargets()
    {
        AddRelayTargets(All);
        var durableFormat = new DurableFormatTarget();
        All[durableFormat.Name] = durableFormat.Run;
    }

    static partial void AddRelayTargets(Dictionary<string, FuzzTarget> targets);
}
