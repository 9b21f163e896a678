using Xunit;

// ObserveRuntime's tracer and capture switch are process-wide: these tests take turns.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
