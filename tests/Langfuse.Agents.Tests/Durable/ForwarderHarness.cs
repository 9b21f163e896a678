using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Http;
using Langfuse.Agents.Testing;
using Shouldly;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// A real forwarder over a real durable queue in a temporary directory, sending through the real client and retry
/// pipeline to a <see cref="FakeLangfuseServer"/> on loopback, with what it gives up collected as the relay's
/// dead-letter hook would see it.
/// </summary>
internal sealed class ForwarderHarness : IAsyncDisposable
{
    private readonly DurableTestDirectory _directory = new();
    private readonly HttpClient _http = new();
    private readonly List<(DurableRecord Record, string Reason)> _rejected = [];

    private ForwarderHarness(FakeLangfuseServer server, TimeProvider time, ForwarderLimits? limits, bool reportRejected, Func<ILangfuseApi, ILangfuseApi>? wrapApi)
    {
        Server = server;
        Time = time;
        Queue = new DurableQueue(new DurableQueueOptions { Directory = _directory.Path }, timeProvider: time);
        var options = new LangfuseOptions
        {
            PublicKey = server.PublicKey,
            SecretKey = server.SecretKey,
            BaseUrl = server.BaseUrl,
            MaxRetries = 0, // the forwarder's own back-off is under test, not the pipeline's
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            MaxRetryDelay = TimeSpan.FromMilliseconds(100),
            CircuitBreakerFailures = 1_000,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var logger = Logs.CreateLogger(Log.BufferCategoryName);
        ILangfuseApi api = new LangfuseApiClient(_http, server.BaseUrl, server.PublicKey, server.SecretKey, time);
        api = wrapApi?.Invoke(api) ?? api;
        Forwarder = new DurableForwarder(
            Queue,
            api,
            new ResilientSender(options, time, Metrics, logger),
            new DeliveryGate(time, logger),
            Metrics,
            logger,
            time,
            reportRejected ? OnRejected : null,
            limits: limits);
    }

    public FakeLangfuseServer Server { get; }

    public TimeProvider Time { get; }

    public DurableQueue Queue { get; }

    public DurableForwarder Forwarder { get; }

    public LangfuseMetrics Metrics { get; } = new();

    public CapturingLoggerFactory Logs { get; } = new();

    public IReadOnlyList<(DurableRecord Record, string Reason)> Rejected
    {
        get
        {
            lock (_rejected)
            {
                return [.. _rejected];
            }
        }
    }

    public static async Task<ForwarderHarness> StartAsync(
        FakeLangfuseOptions? server = null,
        ForwarderLimits? limits = null,
        TimeProvider? time = null,
        bool reportRejected = true,
        Func<ILangfuseApi, ILangfuseApi>? wrapApi = null)
    {
        var fake = await FakeLangfuseServer.StartAsync(server ?? new FakeLangfuseOptions());
        return new ForwarderHarness(fake, time ?? TimeProvider.System, limits, reportRejected, wrapApi);
    }

    /// <summary>Appends each group of records as one segment.</summary>
    public void Append(IReadOnlyList<DurableRecord[]> segments)
    {
        foreach (var segment in segments)
        {
            Queue.Append(segment).ShouldBe(AppendOutcome.Stored);
        }
    }

    /// <summary>Appends the records as one segment.</summary>
    public void AppendSegment(params DurableRecord[] records) => Queue.Append(records).ShouldBe(AppendOutcome.Stored);

    public void Start() => Forwarder.Start();

    /// <summary>The buffer directory, as a process that opens it after a crash would find it (a queue of its own).</summary>
    public DurableQueueStats StatsOnDisk()
    {
        using var fresh = new DurableQueue(new DurableQueueOptions { Directory = _directory.Path }, timeProvider: Time);
        return fresh.Stats;
    }

    /// <summary>Starts the forwarder (once) and waits until it found the buffer empty; false when it did not in time.</summary>
    public async Task<bool> DrainAsync(TimeSpan? timeout = null)
    {
        Forwarder.Start();
        return await Forwarder.DrainAsync(timeout ?? TimeSpan.FromSeconds(30));
    }

    /// <summary>What happened, for failure messages: the server's record and the forwarder's log.</summary>
    public string Describe() => Server.Describe() + "\nlog:\n  " + string.Join("\n  ", Logs.Lines.TakeLast(30)) +
        "\nrejected:\n  " + string.Join("\n  ", Rejected.Select(r => r.Reason));

    public async ValueTask DisposeAsync()
    {
        await Forwarder.DisposeAsync();
        Queue.Dispose();
        await Server.DisposeAsync();
        _http.Dispose();
        Metrics.Dispose();
        Logs.Dispose();
        _directory.Dispose();
    }

    private void OnRejected(DurableRecord record, string reason)
    {
        lock (_rejected)
        {
            _rejected.Add((record, reason));
        }
    }
}
