using Langfuse.Agents.Internal.Diagnostics;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Internal.Http;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// The relay's forwarding, built in one place: the upstream client (watched by <see cref="UpstreamMonitor"/>), the
/// 401/403 gate, the resilient sender, the legacy-event translator and the forwarder that drains the durable queue.
/// The hosting code around it (options, endpoints, group commit, status) only starts, wakes, reads and stops it.
/// </summary>
internal sealed class RelayForwarding : IAsyncDisposable
{
    private readonly HttpClient _httpClient;
    private readonly DeliveryGate _gate;
    private readonly DurableForwarder _forwarder;
    private int _disposed;

    public RelayForwarding(
        RelayOptions options,
        IDurableQueue queue,
        LangfuseMetrics metrics,
        ILoggerFactory loggerFactory,
        TimeProvider time,
        Action<DurableRecord, string> deadLetter)
    {
        _httpClient = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = Timeout.InfiniteTimeSpan };
        var exportLogger = loggerFactory.CreateLogger(Log.ExportCategoryName);
        Upstream = new UpstreamMonitor(
            new LangfuseApiClient(_httpClient, options.Upstream.BaseUrl, options.Upstream.PublicKey!, options.Upstream.SecretKey!, time),
            time);
        _gate = new DeliveryGate(time, exportLogger);
        var sender = new ResilientSender(options.Upstream, time, metrics, exportLogger);
        var translator = new LegacyOtlpTranslator(); // for a v4 upstream, which takes observations only as OTLP
        _forwarder = new DurableForwarder(queue, Upstream, sender, _gate, metrics, loggerFactory.CreateLogger(Log.BufferCategoryName), time, deadLetter, translateLegacy: translator.Translate);
    }

    /// <summary>How the upstream has answered lately (for the status endpoint).</summary>
    public UpstreamMonitor Upstream { get; }

    /// <summary>How long forwarding stays paused after a 401/403 from the upstream.</summary>
    public TimeSpan RemainingPause => _gate.RemainingPause;

    public void Start() => _forwarder.Start();

    /// <summary>New records are on disk: wakes the forwarder, unless the upstream is failing or paused (its own back-off decides then).</summary>
    public void Stored()
    {
        if (Upstream.LooksHealthy && !_gate.IsPaused)
        {
            _forwarder.Wake();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _forwarder.DisposeAsync();
        _httpClient.Dispose();
    }
}
