using BenchmarkDotNet.Running;

namespace Langfuse.Agents.Benchmarks;

/// <summary>
/// Runs the benchmarks. Everything, short job (what bench/RESULTS.md was made with):
/// <code>dotnet run -c Release --project bench/Langfuse.Agents.Benchmarks -- --filter '*' --job short --iterationCount 8</code>
/// One class: <c>--filter '*Lifecycle*'</c>, <c>--filter '*OtlpEncoding*'</c>, <c>--filter '*Preparer*'</c>,
/// <c>--filter '*Durable*'</c>, <c>--filter '*Spilling*'</c>.
/// Without <c>--job short</c> BenchmarkDotNet's default job runs (more precise, several minutes per benchmark).
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
