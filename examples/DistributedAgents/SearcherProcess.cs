using System.Diagnostics;

namespace DistributedAgents;

/// <summary>The searcher as a child process: started on loopback, ready when it prints its address, stopped at the end.</summary>
internal sealed class SearcherProcess : IAsyncDisposable
{
    private readonly Process _process;

    private SearcherProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts this program with <c>--searcher</c> and waits for its ready line (no polling, no sleeps).</summary>
    public static async Task<SearcherProcess> StartAsync(TimeSpan timeout)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(SearcherProcess).Assembly.Location); // run as `dotnet DistributedAgents.dll`
        }

        start.ArgumentList.Add("--searcher");
        // Each process has its own service.name; everything else (LANGFUSE_*, the buffer directory) is inherited.
        start.Environment["OTEL_SERVICE_NAME"] = Environment.GetEnvironmentVariable("DISTRIBUTED_AGENTS_SEARCHER_SERVICE_NAME") ?? "searcher";

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the searcher");
        var ready = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException("the searcher exited before it was ready"));
                return;
            }

            if (e.Data.StartsWith(SearcherService.ReadyPrefix, StringComparison.Ordinal))
            {
                ready.TrySetResult(new Uri(e.Data[SearcherService.ReadyPrefix.Length..].Split(' ')[0]));
            }

            Console.WriteLine($"  [searcher] {e.Data}");
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"  [searcher] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            var address = await ready.Task.WaitAsync(timeout);
            Console.WriteLine($"searcher started: pid {process.Id} at {address}");
            return new SearcherProcess(process, address);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the process to be gone (after a dropped connection, it may still be being reaped).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Asks the searcher to stop (closes its stdin, so it flushes its traces), then waits; kills it if it hangs.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
                // Already gone.
            }

            if (!await WaitForExitAsync(TimeSpan.FromSeconds(15)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        Console.WriteLine($"searcher stopped: pid {_process.Id}, exit code {_process.ExitCode}");
        _process.Dispose();
    }
}
