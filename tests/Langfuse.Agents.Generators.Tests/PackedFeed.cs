using System.Diagnostics;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Generators.Tests;

/// <summary>
/// The packages as a user gets them: Langfuse.Agents (with its generator) and Langfuse.Agents.AspNetCore, packed once
/// per test run into a local folder feed under a unique version, so the global package cache never serves a stale build.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    private static readonly string[] s_packages = ["Langfuse.Agents", "Langfuse.Agents.AspNetCore"];

    public DirectoryInfo Work { get; } = Directory.CreateTempSubdirectory("langfuse-package-test-");

    public string Version { get; } = "0.1.0-packagetest" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);

    public string Feed => Path.Combine(Work.FullName, "feed");

    public string RepositoryRoot { get; }

    public string Configuration { get; }

    public PackedFeed() => (RepositoryRoot, Configuration) = Repository();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Feed);

        // Both projects are already built by this test project's references: pack without rebuilding.
        foreach (var package in s_packages)
        {
            var pack = await RunAsync(RepositoryRoot, new Dictionary<string, string>(), "dotnet", "pack",
                Path.Combine(RepositoryRoot, "src", package, package + ".csproj"),
                "--no-build", "-c", Configuration, "-o", Feed, $"-p:Version={Version}", "-nodeReuse:false");
            pack.ExitCode.ShouldBe(0, pack.Output);
        }
    }

    public Task DisposeAsync()
    {
        Work.Delete(recursive: true);
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var package in s_packages)
        {
            var cached = new DirectoryInfo(Path.Combine(cache, package.ToLowerInvariant(), Version));
            if (cached.Exists)
            {
                cached.Delete(recursive: true);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>A NuGet.config that adds the feed to the machine's sources (the packages' own dependencies come from there).</summary>
    public Task WriteNuGetConfigAsync(string directory) => File.WriteAllTextAsync(Path.Combine(directory, "NuGet.config"), $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <add key="langfuse-local" value="{Feed}" />
          </packageSources>
        </configuration>
        """);

    /// <summary>
    /// Runs a process to its end (bounded) with a clean environment: nothing of the test host's MSBuild/VSTest and no
    /// LANGFUSE_* of the developer leak in; <paramref name="environment"/> is added.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string directory, IReadOnlyDictionary<string, string> environment, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)
                     || k.StartsWith("LANGFUSE_", StringComparison.Ordinal) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                     || k == "OTEL_SERVICE_NAME").ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
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
}
