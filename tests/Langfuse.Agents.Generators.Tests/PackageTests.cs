using System.Diagnostics;
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
public sealed class PackageTests : IAsyncLifetime
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("langfuse-package-test-");
    private readonly string _version = "0.1.0-observetest" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
    private FakeLangfuseServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeLangfuseServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _work.Delete(recursive: true);

        // A unique version per run keeps the global package cache from serving a stale build; remove it again.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var cached = new DirectoryInfo(Path.Combine(cache, "langfuse.agents", _version));
        if (cached.Exists)
        {
            cached.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task PackedPackage_InANewConsoleApp_TracesObserveMethodsWithNoSetUp()
    {
        var (root, configuration) = Repository();
        var feed = Directory.CreateDirectory(Path.Combine(_work.FullName, "feed")).FullName;
        var app = Directory.CreateDirectory(Path.Combine(_work.FullName, "app")).FullName;

        // The SDK and its generator are already built by this test project's references: pack without rebuilding.
        var pack = await RunAsync(root, "dotnet", "pack", Path.Combine(root, "src", "Langfuse.Agents", "Langfuse.Agents.csproj"),
            "--no-build", "-c", configuration, "-o", feed, $"-p:Version={_version}", "-nodeReuse:false");
        pack.ExitCode.ShouldBe(0, pack.Output);

        var sources = Path.Combine(AppContext.BaseDirectory, "PackageApp");
        File.Copy(Path.Combine(sources, "App.csproj.txt"), Path.Combine(app, "ObserveApp.csproj"));
        File.Copy(Path.Combine(sources, "Program.cs.txt"), Path.Combine(app, "Program.cs"));
        await File.WriteAllTextAsync(Path.Combine(app, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="langfuse-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);

        var build = await RunAsync(app, "dotnet", "build", "-c", "Release", $"-p:LangfuseAgentsVersion={_version}", "--disable-build-servers", "-nodeReuse:false");
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

    private static (string Root, string Configuration) Repository()
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = testDir;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Langfuse.Agents.sln")))
        {
            root = root.Parent;
        }

        root.ShouldNotBeNull("repository root (Langfuse.Agents.sln) not found above " + AppContext.BaseDirectory);
        return (root.FullName, testDir.Parent!.Name);
    }

    private async Task<(int ExitCode, string Output)> RunAsync(string directory, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // The test host runs under MSBuild/VSTest: none of that, and no LANGFUSE_* of the developer, may leak in.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)
                     || k.StartsWith("LANGFUSE_", StringComparison.Ordinal) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                     || k == "OTEL_SERVICE_NAME").ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["LANGFUSE_PUBLIC_KEY"] = _server.PublicKey;
        start.Environment["LANGFUSE_SECRET_KEY"] = _server.SecretKey;
        start.Environment["LANGFUSE_BASE_URL"] = _server.BaseUrl.ToString();
        start.Environment["LANGFUSE_BUFFER_DIR"] = Path.Combine(_work.FullName, "buffer");

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, $"{file} {string.Join(' ', arguments)}\n{await stdout}{await stderr}");
    }
}
