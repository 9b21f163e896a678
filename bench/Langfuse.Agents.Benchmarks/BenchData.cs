using System.Diagnostics;

namespace Langfuse.Agents.Benchmarks;

/// <summary>The values every benchmark records, so both sides carry the same information.</summary>
internal static class BenchData
{
    /// <summary>A prompt of ~320 characters.</summary>
    public static readonly string Input =
        "You are a research assistant. Find the three most relevant passages about OpenTelemetry span limits in the " +
        "attached documentation, quote them verbatim, and explain in two sentences how attribute count limits " +
        "interact with event and link limits. Answer in English and cite the section titles you used for each quote.";

    /// <summary>A completion of ~330 characters.</summary>
    public static readonly string Output =
        "1. \"Span attribute count limit: 128 by default\" (Span Limits). 2. \"Event count limit: 128\" (Span Limits). " +
        "3. \"Link count limit: 128\" (Span Limits). The attribute limit applies to the span itself, while events and " +
        "links carry their own per-item attribute limits, so a span can hold more attributes in total than the span limit.";

    public const string Version = "1.2.0";
    public const string MetadataKey = "tool";
    public const string MetadataValue = "search";
    public const string Model = "gpt-4o";

    /// <summary>
    /// Measures managed bytes allocated on the benchmark thread only (BenchmarkDotNet's Allocated column is
    /// process-wide: <c>GC.GetTotalAllocatedBytes(precise: true)</c>, so it also counts background exporters).
    /// GlobalSetup, the benchmark method and GlobalCleanup all run on BenchmarkDotNet's main thread.
    /// </summary>
    public sealed class CallerThreadAllocations
    {
        private long _start;
        private int _threadId;

        public long Operations;

        public void Start()
        {
            _threadId = Environment.CurrentManagedThreadId;
            Operations = 0;
            _start = GC.GetAllocatedBytesForCurrentThread();
        }

        public string Report()
        {
            var bytes = GC.GetAllocatedBytesForCurrentThread() - _start;
            if (Environment.CurrentManagedThreadId != _threadId)
            {
                return "caller-thread allocations: unknown (cleanup ran on another thread)";
            }

            return Operations == 0
                ? "caller-thread allocations: no operations"
                : $"caller-thread allocations: {(double)bytes / Operations:F1} B/op over {Operations:N0} ops";
        }
    }
}
