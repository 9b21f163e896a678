using System.Text.Json;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Generators.Tests;

/// <summary>
/// The way a user gets [Observe]: packs the SDK into a local folder feed, builds a separate console app that
/// references only that package (PackageApp/), runs it with nothing but environment variables, and checks what a
/// Langfuse-like server receives. Offline: dependencies come from the machine's NuGet cache and sources.
/// </summary>
[Collection(PackedFeedGroup.Name)]
public sealed class PackageTests(PackedFeed feed) : IAsyncLifetime
{
    private FakeLangfuseServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeLangfuseServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PackedPackage_InANewConsoleApp_TracesObserveMethodsWithNoSetUp()
    {
        var app = Directory.CreateDirectory(Path.Combine(feed.Work.FullName, "app")).FullName;
        var sources = Path.Combine(AppContext.BaseDirectory, "PackageApp");
        File.Copy(Path.Combine(sources, "App.csproj.txt"), Path.Combine(app, "ObserveApp.csproj"));
        File.Copy(Path.Combine(sources, "Program.cs.txt"), Path.Combine(app, "Program.cs"));
        await feed.WriteNuGetConfigAsync(app);

        var build = await RunAsync(app, "dotnet", "build", "-c", "Release", $"-p:LangfuseAgentsVersion={feed.Version}", "--disable-build-servers", "-nodeReuse:false");
        build.ExitCode.ShouldBe(0, build.Output);

        var run = await RunAsync(app, "dotnet", Path.Combine(app, "bin", "Release", "net10.0", "ObserveApp.dll"));
        run.ExitCode.ShouldBe(0, run.Output);
        run.Output.ShouldContain("Langfuse traces");

        await _server.WaitForSpansAsync(5, TimeSpan.FromSeconds(10));
        var spans = _server.Spans;
        string.Join(",", spans.Select(s => s.Name).Order(StringComparer.Ordinal)).ShouldBe("Fail,Normalize,PlanAsync,RunAsync,answer", _server.Describe());
        spans.Select(s => s.TraceId).Distinct().ShouldHaveSingleItem();
        spans.ShouldAllBe(s => s.ResourceAttr("service.name") == "ObserveApp");

        var agent = spans.Single(s => s.Name == "RunAsync");
        agent.IsRoot.ShouldBeTrue();
        agent.Type.ShouldBe("agent");
        Json(agent.Attr("langfuse.observation.input")).ShouldBe("""{"question":"what is langfuse?"}""");

        var plan = spans.Single(s => s.Name == "PlanAsync");
        plan.Type.ShouldBe("tool");
        plan.ParentSpanId.ShouldBe(agent.SpanId);
        Json(plan.Attr("langfuse.observation.input")).ShouldBe("""{"question":"what is langfuse?"}"""); // the CancellationToken is left out
        plan.Attr("langfuse.observation.output").ShouldBe("WHAT IS LANGFUSE?");
        spans.Single(s => s.Name == "Normalize").ParentSpanId.ShouldBe(plan.SpanId);

        var answer = spans.Single(s => s.Name == "answer");
        answer.Type.ShouldBe("generation");
        answer.ParentSpanId.ShouldBe(agent.SpanId);
        answer.Attr("langfuse.observation.output").ShouldBe("Langfuse traces");

        var failed = spans.Single(s => s.Name == "Fail");
        failed.ParentSpanId.ShouldBe(agent.SpanId);
        failed.Attr("langfuse.observation.level").ShouldBe("ERROR");
        failed.Attr("langfuse.observation.status_message").ShouldBe("InvalidOperationException: no such tool");
    }

    private static string Json(string? text) => JsonSerializer.Serialize(JsonDocument.Parse(text ?? "null").RootElement);

    private Task<(int ExitCode, string Output)> RunAsync(string directory, string file, params string[] arguments) =>
        PackedFeed.RunAsync(directory, new Dictionary<string, string>
        {
            ["LANGFUSE_PUBLIC_KEY"] = _server.PublicKey,
            ["LANGFUSE_SECRET_KEY"] = _server.SecretKey,
            ["LANGFUSE_BASE_URL"] = _server.BaseUrl.ToString(),
            ["LANGFUSE_BUFFER_DIR"] = Path.Combine(feed.Work.FullName, "buffer"),
        }, file, arguments);
}
