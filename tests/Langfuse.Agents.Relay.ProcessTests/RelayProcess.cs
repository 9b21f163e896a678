using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Langfuse.Agents.Testing;
using Shouldly;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>How a relay process is configured: its upstream, the keys its clients present, its buffer directory.</summary>
internal sealed record RelayConfig(FakeLangfuseServer Upstream, string BufferDir)
{
    public const string ClientPublicKey = "pk-lf-relay";
    public const string ClientSecretKey = "sk-lf-relay";

    /// <summary><c>--urls</c>; a fixed port lets a restarted relay take over its predecessor's address; null passes none (the environment decides).</summary>
    public string? Urls { get; init; } = "http://127.0.0.1:0";

    /// <summary>
    /// More variables. By default the forwarder's retry delays are short (100 ms base, 1 s cap, 1 s circuit break), so that
    /// a healed upstream is noticed within a second or two: operator settings, not test hooks.
    /// </summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>
    {
        ["LANGFUSE_RETRY_BASE_DELAY_MS"] = "100",
        ["LANGFUSE_MAX_RETRY_DELAY"] = "1",
        ["LANGFUSE_CIRCUIT_BREAK_DURATION"] = "1",
    };

    public Dictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>
        {
            ["LANGFUSE_BASE_URL"] = Upstream.BaseUrl.ToString().TrimEnd('/'),
            ["LANGFUSE_PUBLIC_KEY"] = Upstream.PublicKey,
            ["LANGFUSE_SECRET_KEY"] = Upstream.SecretKey,
            ["LANGFUSE_RELAY_PUBLIC_KEY"] = ClientPublicKey,
            ["LANGFUSE_RELAY_SECRET_KEY"] = ClientSecretKey,
            ["LANGFUSE_BUFFER_DIR"] = BufferDir,
        };
        foreach (var (key, value) in Extra)
        {
            env[key] = value;
        }

        return env;
    }
}

/// <summary>
/// The built relay (<c>dotnet Langfuse.Agents.Relay.dll</c>) as a child process. Ready when it prints
/// <c>relay listening on http://127.0.0.1:PORT</c>; output is captured for failure messages.
/// </summary>
internal sealed partial class RelayProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _openStreams = 2;

    private RelayProcess(Process process) => _process = process;

    public Uri BaseUrl => _ready.Task.IsCompletedSuccessfully ? _ready.Task.Result : throw new InvalidOperationException("not ready");

    public int Port => BaseUrl.Port;

    public int Id => _process.Id;

    /// <summary>The child's resident set now and at its peak (<c>VmRSS</c>, <c>VmHWM</c> from <c>/proc</c>), in bytes; Linux only.</summary>
    public (long Current, long Peak) Memory()
    {
        long current = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                current = Kilobytes(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line);
            }
        }

        return (current, peak);

        static long Kilobytes(string line) =>
            long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the relay printed so far (stdout and stderr, interleaved by arrival).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string Dll => Built.Assembly("src/Langfuse.Agents.Relay", "Langfuse.Agents.Relay.dll");

    /// <summary>Starts the relay and waits for its "listening" line (or its exit, which fails the start).</summary>
    public static async Task<RelayProcess> StartAsync(RelayConfig config)
    {
        var relay = Launch(config);
        var exited = relay._process.WaitForExitAsync();
        var first = await Task.WhenAny(relay._ready.Task, exited, Task.Delay(ReadyTimeout));
        if (first == relay._ready.Task)
        {
            return relay;
        }

        if (first == exited)
        {
            await relay._outputClosed.Task.WaitAsync(TimeSpan.FromSeconds(5));
            throw new InvalidOperationException($"The relay exited ({relay._process.ExitCode}) before listening:\n{relay.Output}");
        }

        relay.Kill();
        throw new TimeoutException($"The relay did not print 'relay listening on' within {ReadyTimeout}:\n{relay.Output}");
    }

    /// <summary>Starts a relay expected to refuse to run; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(RelayConfig config, TimeSpan timeout)
    {
        var relay = Launch(config);
        try
        {
            await relay._process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            var ready = relay._ready.Task.IsCompletedSuccessfully ? " (it is listening)" : "";
            relay.Kill();
            throw new TimeoutException($"The relay kept running{ready} for {timeout}:\n{relay.Output}");
        }

        await relay._outputClosed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        return (relay._process.ExitCode, relay.Output);
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(); // Process.Kill on Unix sends SIGKILL.
        }
    }

    /// <summary>SIGKILL, then waits until the process is gone (so its port and its buffer lock are free).</summary>
    public async Task KillAndWaitAsync()
    {
        Kill();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>An HttpClient for this relay, presenting the given Basic credentials (the relay's client keys by default).</summary>
    public HttpClient CreateClient(string publicKey = RelayConfig.ClientPublicKey, string secretKey = RelayConfig.ClientSecretKey) =>
        CreateClient(BaseUrl, publicKey, secretKey);

    public static HttpClient CreateClient(Uri baseUrl, string publicKey = RelayConfig.ClientPublicKey, string secretKey = RelayConfig.ClientSecretKey)
    {
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = baseUrl,
            Timeout = TimeSpan.FromSeconds(30),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{publicKey}:{secretKey}")));
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // Nothing more to do for a test's child.
        }

        _process.Dispose();
    }

    public override string ToString() => $"relay pid {_process.Id}";

    private static RelayProcess Launch(RelayConfig config)
    {
        var start = new ProcessStartInfo("dotnet", config.Urls is null ? [Dll] : [Dll, "--urls", config.Urls])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var key in start.Environment.Keys
                     .Where(k => k.StartsWith("LANGFUSE_", StringComparison.Ordinal) || k.StartsWith("OTEL_", StringComparison.Ordinal) ||
                                 k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k == "DOTNET_ENVIRONMENT")
                     .ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in config.Environment())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var relay = new RelayProcess(process);
        process.OutputDataReceived += (_, e) => relay.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => relay.OnLine(e.Data);
        process.Start().ShouldBeTrue();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return relay;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            if (Interlocked.Decrement(ref _openStreams) == 0)
            {
                _outputClosed.TrySetResult();
            }

            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _ready.TrySetResult(new Uri(match.Groups[1].Value.TrimEnd('/') + "/"));
        }
    }

    [GeneratedRegex(@"relay listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}

/// <summary>Paths of apps built next to this test project (same configuration and target framework).</summary>
internal static class Built
{
    public static string RepositoryRoot
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Langfuse.Agents.sln")))
            {
                root = root.Parent;
            }

            root.ShouldNotBeNull("repository root (Langfuse.Agents.sln) not found above " + AppContext.BaseDirectory);
            return root.FullName;
        }
    }

    public static string Assembly(string projectDirectory, string assemblyFile)
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testDir.Parent!.Name;
        var path = Path.Combine(RepositoryRoot, projectDirectory, "bin", configuration, testDir.Name, assemblyFile);
        File.Exists(path).ShouldBeTrue($"{path} is built by the test project's reference to it");
        return path;
    }
}
