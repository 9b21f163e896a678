namespace Langfuse.Agents.Fuzz;

/// <summary>One parser under fuzzing: takes any bytes, throws only when an invariant is broken (a finding).</summary>
internal interface IFuzzTarget
{
    /// <summary>The name given on the command line.</summary>
    string Name { get; }

    /// <summary>Parses <paramref name="input"/> and checks what must hold for any input.</summary>
    void Run(ReadOnlySpan<byte> input);
}
