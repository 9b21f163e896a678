using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Langfuse.Agents.Observe;
using Microsoft.Extensions.Logging.Abstractions;

namespace Langfuse.Agents.Benchmarks;

/// <summary>
/// What <c>[Observe]</c> costs beyond the observation itself: a call of an <c>[Observe]</c> method (through the
/// generated interceptor) against the same call wrapped by hand in <c>StartObservation</c> with the same input
/// (arguments by name), output and exception handling. The tracer has tracing off, so both rows measure the
/// caller's path only (observation object, ids, clock, current-observation switch) and the difference is the
/// interceptor's. <c>Sync</c>: a plain method. <c>Async</c>: an async method that really suspends (Task.Yield).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
#pragma warning disable CA1822 // BenchmarkDotNet runs instance methods
public class ObserveBenchmarks
{
    private LangfuseTracer _tracer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _tracer = new LangfuseTracer(new LangfuseOptions { TracingEnabled = false }, NullLoggerFactory.Instance);
        ObserveRuntime.TracerOverride = _tracer;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        ObserveRuntime.TracerOverride = null;
        _tracer.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Sync")]
    public int HandWritten_Sync()
    {
        using var observation = _tracer.StartObservation("Add", ObservationType.Span);
        observation.Input = new Dictionary<string, object?>(2) { ["a"] = 20, ["b"] = 22 };
        try
        {
            var result = Add(20, 22);
            observation.Output = result;
            return result;
        }
        catch (Exception exception)
        {
            observation.RecordException(exception);
            throw;
        }
    }

    [Benchmark, BenchmarkCategory("Sync")]
    public int Observe_Sync() => ObservedAdd(20, 22);

    [Benchmark(Baseline = true), BenchmarkCategory("Async")]
    public async Task<int> HandWritten_Async()
    {
        using var observation = _tracer.StartObservation("AddAsync", ObservationType.Span);
        observation.Input = new Dictionary<string, object?>(2) { ["a"] = 20, ["b"] = 22 };
        try
        {
            var result = await AddAsync(20, 22);
            observation.Output = result;
            return result;
        }
        catch (Exception exception)
        {
            observation.RecordException(exception);
            throw;
        }
    }

    [Benchmark, BenchmarkCategory("Async")]
    public Task<int> Observe_Async() => ObservedAddAsync(20, 22);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int Add(int a, int b) => a + b;

    [Observe(Name = "Add")]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int ObservedAdd(int a, int b) => a + b;

    private static async Task<int> AddAsync(int a, int b)
    {
        await Task.Yield();
        return a + b;
    }

    [Observe(Name = "AddAsync")]
    private static async Task<int> ObservedAddAsync(int a, int b)
    {
        await Task.Yield();
        return a + b;
    }
}
