using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using Shouldly;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>
/// The official Langfuse JS SDKs (pinned in js/package.json and js/package-lock.json), installed with <c>npm ci</c>
/// on first use and run with node: <c>js/otlp.mjs</c> (@langfuse/otel + @opentelemetry/sdk-node) and
/// <c>js/legacy.mjs</c> (langfuse 3.x). Each prints <c>RESULT {"acked":[...],"failed":[...]}</c>.
/// </summary>
internal static class JsClients
{
    private static readonly Lazy<Task> Install = new(InstallAsync);

    public static string Directory => Path.Combine(Built.RepositoryRoot, "tests", "Langfuse.Agents.Relay.ProcessTests", "js");

    /// <summary>Runs <c>npm ci</c> once per test run (skipped when node_modules already matches the lock file).</summary>
    public static Task EnsureInstalledAsync() => Install.Value;

    public static async Task<JsRun> RunAsync(string script, Uri baseUrl, string publicKey, string secretKey, int traces, TimeSpan? timeout = null)
    {
        await EnsureInstalledAsync();
        var start = new ProcessStartInfo("node", [script, traces.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            WorkingDirectory = Directory,
        };
        Scrub(start);
        start.Environment["LANGFUSE_BASE_URL"] = baseUrl.ToString().TrimEnd('/');
        start.Environment["LANGFUSE_PUBLIC_KEY"] = publicKey;
        start.Environment["LANGFUSE_SECRET_KEY"] = secretKey;
        var (exitCode, output) = await RunAsync(start, timeout ?? TimeSpan.FromSeconds(60));
        exitCode.ShouldBe(0, $"node {script} failed:\n{output}");
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        line.ShouldNotBeNull($"node {script} printed no RESULT line:\n{output}");
        using var result = JsonDocument.Parse(line["RESULT ".Length..]);
        return new JsRun(
            [.. result.RootElement.GetProperty("acked").EnumerateArray().Select(e => e.GetString()!)],
            [.. result.RootElement.GetProperty("failed").EnumerateArray().Select(e => e.GetString()!)],
            output);
    }

    private static async Task InstallAsync()
    {
        await RequireToolAsync("node");
        await RequireToolAsync("npm");
        var marker = Path.Combine(Directory, "node_modules", ".package-lock.json");
        var lockFile = Path.Combine(Directory, "package-lock.json");
        if (File.Exists(marker) && File.GetLastWriteTimeUtc(marker) >= File.GetLastWriteTimeUtc(lockFile))
        {
            return;
        }

        var start = new ProcessStartInfo("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"]) { WorkingDirectory = Directory };
        Scrub(start);
        var (exitCode, output) = await RunAsync(start, TimeSpan.FromMinutes(3));
        exitCode.ShouldBe(0, $"npm ci in {Directory} failed:\n{output}");
    }

    private static async Task RequireToolAsync(string tool)
    {
        try
        {
            var (exitCode, output) = await RunAsync(new ProcessStartInfo(tool, ["--version"]), TimeSpan.FromSeconds(30));
            exitCode.ShouldBe(0, $"'{tool} --version' failed:\n{output}");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException(
                $"'{tool}' is not installed or not on PATH ({ex.Message}). These tests run the official Langfuse JS SDKs " +
                "and need node 20+ and npm (Debian: apt-get install nodejs npm).", ex);
        }
    }

    private static void Scrub(ProcessStartInfo start)
    {
        foreach (var key in start.Environment.Keys
                     .Where(k => k.StartsWith("LANGFUSE_", StringComparison.Ordinal) || k.StartsWith("OTEL_", StringComparison.Ordinal) || k == "NODE_OPTIONS")
                     .ToList())
        {
            start.Environment.Remove(key);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not exit within {timeout}:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}

internal sealed record JsRun(IReadOnlyList<string> Acked, IReadOnlyList<string> Failed, string Output);
