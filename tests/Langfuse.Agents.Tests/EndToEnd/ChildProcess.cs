using System.Diagnostics;
using Langfuse.Agents.Testing;
using Shouldly;

namespace Langfuse.Agents.Tests.EndToEnd;

/// <summary>Runs a built .NET app of this repository as a child process with a clean LANGFUSE_* environment.</summary>
internal static class ChildProcess
{
    /// <summary>
    /// LANGFUSE_SHUTDOWN_TIMEOUT for a child whose test asserts that everything reached Langfuse at exit. The default
    /// 5 s is real time in the child, and a loaded two-core machine spends it on the first export's JIT and connection
    /// alone: what was still queued (the scores, sent after the spans) then went to the disk buffer instead, and the
    /// test saw none. The budget is not what such a test is about; tests of the budget itself set their own.
    /// </summary>
    public static readonly string DeliveryShutdownBudget =
        ((int)LoadedMachine.HangGuard.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static async Task<Run> RunAsync(string dll, IReadOnlyDictionary<string, string> environment, TimeSpan? timeout = null, IEnumerable<string>? arguments = null)
    {
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments ?? []])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("LANGFUSE_", StringComparison.Ordinal) || k == "OTEL_SERVICE_NAME").ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        // Never let a test's child write into the real per-user buffer: a fresh directory unless the test chose one.
        DirectoryInfo? ownBuffer = null;
        if (!environment.ContainsKey("LANGFUSE_BUFFER_DIR"))
        {
            ownBuffer = Directory.CreateTempSubdirectory("langfuse-test-buffer-");
            start.Environment["LANGFUSE_BUFFER_DIR"] = ownBuffer.FullName;
        }

        try
        {
            return await RunProcessAsync(start, dll, timeout);
        }
        finally
        {
            ownBuffer?.Delete(recursive: true);
        }
    }

    private static async Task<Run> RunProcessAsync(ProcessStartInfo start, string dll, TimeSpan? timeout)
    {
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // A hang guard, not a speed test: longer than any shutdown budget a test gives its child (DeliveryShutdownBudget).
        using var limit = new CancellationTokenSource(timeout ?? (LoadedMachine.HangGuard * 2));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(dll)} did not exit in time:\n" + await stdout + await stderr);
        }

        return new Run(process.ExitCode, await stdout + await stderr, clock.Elapsed);
    }

    /// <summary>
    /// The path of an app built next to this test project: same configuration and target framework, found from the
    /// repository root (the folder holding Langfuse.Agents.sln).
    /// </summary>
    public static string BuiltAssembly(string projectDirectory, string assemblyFile)
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testDir.Parent!.Name;
        var root = testDir;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Langfuse.Agents.sln")))
        {
            root = root.Parent;
        }

        root.ShouldNotBeNull("repository root (Langfuse.Agents.sln) not found above " + AppContext.BaseDirectory);
        var path = Path.Combine(root.FullName, projectDirectory, "bin", configuration, testDir.Name, assemblyFile);
        File.Exists(path).ShouldBeTrue($"{path} is built by the test project's reference to it");
        return path;
    }

    public sealed record Run(int ExitCode, string Output, TimeSpan Elapsed);
}
