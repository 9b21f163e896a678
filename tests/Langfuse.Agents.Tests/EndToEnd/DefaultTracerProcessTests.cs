using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.EndToEnd;

/// <summary>
/// Runs a console app whose only Langfuse code is <c>LangfuseTracer.Default</c> as a real child process: the default
/// tracer must read the environment and flush at process exit, within its shutdown budget.
/// </summary>
public sealed class DefaultTracerProcessTests : IAsyncLifetime
{
    private FakeLangfuseServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeLangfuseServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task DefaultTracer_FlushesAtProcessExit_WithoutAnyFlushCall()
    {
        var environment = Environment();
        environment["LANGFUSE_SHUTDOWN_TIMEOUT"] = ChildProcess.DeliveryShutdownBudget;

        var run = await ChildProcess.RunAsync(AppDll(), environment);

        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("done");
        _server.Spans.Select(s => s.Name).OrderBy(n => n).ShouldBe(["exit-flush", "lookup"]);
        _server.Spans.ShouldAllBe(s => s.ResourceAttr("service.name") == "Langfuse.Agents.DefaultTracerApp");
        _server.IngestionEvents.Single().Type.ShouldBe("score-create");
    }

    [Fact]
    public async Task DefaultTracer_WhenLangfuseHangs_ExitsWithinItsShutdownBudget()
    {
        _server.FailAll(503);
        var environment = Environment();
        environment["LANGFUSE_SHUTDOWN_TIMEOUT"] = "1";
        environment["LANGFUSE_TIMEOUT"] = "30";

        var run = await ChildProcess.RunAsync(AppDll(), environment);

        run.ExitCode.ShouldBe(0, run.Output);
        _server.Spans.ShouldBeEmpty();

        // A liveness bound, not a speed test: a 1 s budget (plus one second of grace) must not become 30 s.
        run.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15));
    }

    private Dictionary<string, string> Environment() => new()
    {
        ["LANGFUSE_PUBLIC_KEY"] = _server.PublicKey,
        ["LANGFUSE_SECRET_KEY"] = _server.SecretKey,
        ["LANGFUSE_BASE_URL"] = _server.BaseUrl.ToString(),
        ["LANGFUSE_RETRY_BASE_DELAY_MS"] = "50",
    };

    private static string AppDll() => ChildProcess.BuiltAssembly(Path.Combine("tests", "Langfuse.Agents.DefaultTracerApp"), "Langfuse.Agents.DefaultTracerApp.dll");
}
