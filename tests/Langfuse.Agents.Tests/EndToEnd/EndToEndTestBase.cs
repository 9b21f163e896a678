using System.Text;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.EndToEnd;

/// <summary>
/// What every end-to-end scenario against <see cref="FakeLangfuseServer"/> shares: the test keys, captured logs,
/// the tracers and servers it created (shut down and disposed afterwards), and the check that no log line ever
/// contained a key or the Basic credentials.
/// </summary>
public abstract class EndToEndTestBase : IAsyncLifetime, IDisposable
{
    protected const string PublicKey = "pk-lf-test";
    protected const string SecretKey = "sk-lf-test";

    /// <summary>A guard against hangs, never a wait: real-time waits end on signals long before it.</summary>
    protected static readonly TimeSpan RealTimeGuard = LoadedMachine.HangGuard;

    private readonly List<string> _secrets = [PublicKey, SecretKey, Base64Credentials(PublicKey, SecretKey)];

    protected CapturingLoggerFactory Logs { get; } = new();

    protected List<LangfuseTracer> Tracers { get; } = [];

    protected List<FakeLangfuseServer> Servers { get; } = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var tracer in Tracers)
        {
            // A zero budget never waits on a fake clock; whatever is left is abandoned and counted.
            await tracer.ShutdownAsync(TimeSpan.Zero).WaitAsync(RealTimeGuard);
            await tracer.DisposeAsync();
        }

        foreach (var server in Servers)
        {
            await server.DisposeAsync();
        }

        CleanUp();
        var leaks = Logs.Lines.Where(line => _secrets.Any(secret => line.Contains(secret, StringComparison.Ordinal))).ToList();
        leaks.ShouldBeEmpty("no log line may contain a key or the Basic credentials");
    }

    public void Dispose()
    {
        Logs.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Adds a key pair a scenario uses, so the final check also looks for it (and its Basic credentials).</summary>
    protected void AddSecrets(string publicKey, string secretKey) =>
        _secrets.AddRange([publicKey, secretKey, Base64Credentials(publicKey, secretKey)]);

    /// <summary>Removes what a scenario left behind (a buffer directory), after its tracers and servers are gone.</summary>
    protected virtual void CleanUp()
    {
    }

    protected async Task<FakeLangfuseServer> StartServerAsync(Action<FakeLangfuseOptions>? configure = null)
    {
        var options = new FakeLangfuseOptions { PublicKey = PublicKey, SecretKey = SecretKey };
        configure?.Invoke(options);
        var server = await FakeLangfuseServer.StartAsync(options);
        Servers.Add(server);
        return server;
    }

    /// <summary>Starts and ends a one-span trace named <paramref name="name"/>.</summary>
    protected static LangfuseObservation EndSpan(LangfuseTracer tracer, string name, object? input = null)
    {
        using var root = tracer.StartTrace(name, input: input);
        return root;
    }

    private static string Base64Credentials(string publicKey, string secretKey) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{publicKey}:{secretKey}"));

    /// <summary>At a quiet moment every item accepted is exported, dropped (by reason) or buffered on disk.</summary>
    protected static void AssertAccounting(LangfuseTracer tracer) => tracer.GetStatistics().ShouldBeBalanced();
}
