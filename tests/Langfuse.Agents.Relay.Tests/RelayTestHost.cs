using System.Net.Http.Headers;
using System.Text;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Relay.Internal;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>
/// A relay started in-process on <c>127.0.0.1:0</c> (the same <see cref="RelayHost"/> the program runs), in front of a
/// <see cref="FakeLangfuseServer"/>, with a temporary buffer directory and fast retries.
/// </summary>
internal sealed class RelayTestHost : IAsyncDisposable
{
    public const string ClientPublicKey = "pk-relay-client";
    public const string ClientSecretKey = "sk-relay-client";

    private RelayTestHost(FakeLangfuseServer upstream, RelayHost relay, string directory)
    {
        Upstream = upstream;
        Relay = relay;
        Directory = directory;
        Client = new HttpClient { BaseAddress = relay.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        Client.DefaultRequestHeaders.Authorization = Basic(ClientPublicKey, ClientSecretKey);
    }

    public FakeLangfuseServer Upstream { get; }

    public RelayHost Relay { get; }

    public string Directory { get; }

    public HttpClient Client { get; }

    /// <param name="upstreamOptions">The fake Langfuse's options.</param>
    /// <param name="fileSystem">The queue's file operations (a full disk).</param>
    /// <param name="directory">The buffer directory (a fresh one by default).</param>
    /// <param name="configure">Changes the relay's options.</param>
    /// <param name="timeProvider">The relay's clock (a fake one steps the body time limit).</param>
    /// <param name="logging">The relay's logging (quiet by default).</param>
    public static async Task<RelayTestHost> StartAsync(
        FakeLangfuseOptions? upstreamOptions = null,
        IDurableFileSystem? fileSystem = null,
        string? directory = null,
        Func<RelayOptions, RelayOptions>? configure = null,
        TimeProvider? timeProvider = null,
        Action<ILoggingBuilder>? logging = null)
    {
        var upstream = await FakeLangfuseServer.StartAsync(upstreamOptions);
        directory ??= Path.Combine(Path.GetTempPath(), "langfuse-relay-tests", Guid.NewGuid().ToString("N"));
        var options = Options(upstream, directory);
        options = configure?.Invoke(options) ?? options;
        var relay = await RelayHost.StartAsync(options, ["--urls", "http://127.0.0.1:0"], fileSystem, logging ?? Quiet, timeProvider);
        return new RelayTestHost(upstream, relay, directory);
    }

    public static RelayOptions Options(FakeLangfuseServer upstream, string directory) => new()
    {
        Upstream = new LangfuseOptions
        {
            BaseUrl = upstream.BaseUrl,
            PublicKey = upstream.PublicKey,
            SecretKey = upstream.SecretKey,
            MaxRetries = 1,
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            MaxRetryDelay = TimeSpan.FromMilliseconds(200),
            CircuitBreakerFailures = 50,
            CircuitBreakDuration = TimeSpan.FromMilliseconds(500),
        },
        ClientPublicKey = ClientPublicKey,
        ClientSecretKey = ClientSecretKey,
        BufferDirectory = directory,
    };

    public static void Quiet(ILoggingBuilder logging) => logging.SetMinimumLevel(LogLevel.Critical);

    public static AuthenticationHeaderValue Basic(string publicKey, string secretKey) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{publicKey}:{secretKey}")));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Relay.DisposeAsync();
        await Upstream.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
