using System.Diagnostics;
using Langfuse.Agents.Tests.EndToEnd;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// A running Langfuse.Agents.DurableCrashApp: its stdout lines as they arrive, and a signal to wait on them (no
/// sleeping). Disposing kills it if it still runs.
/// </summary>
internal sealed class DurableChild : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<string> _lines = [];
    private readonly Process _process;
    private TaskCompletionSource _changed = NewSignal();

    private DurableChild(Process process)
    {
        _process = process;
    }

    public static string AppPath => ChildProcess.BuiltAssembly("tests/Langfuse.Agents.DurableCrashApp", "Langfuse.Agents.DurableCrashApp.dll");

    public Process Process => _process;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Completes at the next line (or at the end of output).</summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    public static DurableChild Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [AppPath, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = start };
        var child = new DurableChild(process);
        process.OutputDataReceived += (_, e) => child.Add(e.Data);
        process.ErrorDataReceived += (_, e) => child.Add(e.Data is null ? null : "stderr: " + e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Lines starting with <paramref name="prefix"/>, with the prefix removed, parsed as integers.</summary>
    public List<int> Numbers(string prefix) =>
        [.. Lines.Where(l => l.StartsWith(prefix + " ", StringComparison.Ordinal)).Select(l => int.Parse(l.AsSpan(prefix.Length + 1), System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Waits (on output, not on a timer) until <paramref name="condition"/> holds over these children's output.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string description, params DurableChild[] children)
    {
        using var limit = new CancellationTokenSource(timeout);
        while (true)
        {
            var changed = Task.WhenAny(children.Select(c => c.Changed));
            if (condition())
            {
                return;
            }

            try
            {
                await changed.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Waited {timeout} for {description}. Output:\n" + string.Join("\n---\n", children.Select(c => string.Join("\n", c.Lines.TakeLast(20)))));
            }
        }
    }

    /// <summary>SIGKILL (what <see cref="Process.Kill()"/> sends on Linux), then waits until it is gone and its output read.</summary>
    public void KillHard()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        _process.WaitForExit(); // the synchronous wait also waits for the redirected output to end
    }

    /// <summary>Asks a replaying child to stop (a line on its stdin) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        await _process.StandardInput.WriteLineAsync("exit");
        await _process.StandardInput.FlushAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _process.WaitForExitAsync(limit.Token);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            KillHard();
        }

        _process.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Add(string? line)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (line is not null)
            {
                _lines.Add(line);
            }

            signal = _changed;
            _changed = NewSignal();
        }

        signal.TrySetResult();
    }
}
