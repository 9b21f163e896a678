using System.Diagnostics;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>
/// Clients sending continuously to one relay address (OTLP protobuf, OTLP protobuf+gzip, OTLP JSON and batch, in turn)
/// and keeping the ids of everything acknowledged. A request that fails (relay gone, connection reset) is not counted;
/// the worker backs off briefly and goes on, so it resumes by itself when a relay listens there again.
/// </summary>
internal sealed class LoadClient : IAsyncDisposable
{
    private static readonly PayloadKind[] Kinds = [PayloadKind.OtlpProtobuf, PayloadKind.Batch, PayloadKind.OtlpJson, PayloadKind.OtlpProtobufGzip];

    private readonly HttpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<string> _spans = [];
    private readonly List<string> _events = [];
    private readonly Task[] _workers;
    private readonly int _maxRequests;
    private int _sent;
    private int _acknowledged;
    private int _failed;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="baseUrl">The relay's address.</param>
    /// <param name="workers">Concurrent senders.</param>
    /// <param name="itemsPerRequest">Spans or events per request.</param>
    /// <param name="maxRequests">A bound on requests sent in all, whatever happens.</param>
    public LoadClient(Uri baseUrl, int workers = 4, int itemsPerRequest = 5, int maxRequests = 20_000)
    {
        _maxRequests = maxRequests;
        _client = RelayProcess.CreateClient(baseUrl);
        _client.Timeout = TimeSpan.FromSeconds(10);
        _workers = [.. Enumerable.Range(0, workers).Select(w => Task.Run(() => RunAsync(w, itemsPerRequest)))];
    }

    public int Acknowledged => Volatile.Read(ref _acknowledged);

    public int Failed => Volatile.Read(ref _failed);

    public int Sent => Volatile.Read(ref _sent);

    public IReadOnlyList<string> AckedSpans
    {
        get
        {
            lock (_lock)
            {
                return [.. _spans];
            }
        }
    }

    public IReadOnlyList<string> AckedEvents
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> requests in all were acknowledged.</summary>
    public async Task WaitForAcknowledgedAsync(int count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_acknowledged >= count)
                {
                    return;
                }

                changed = _changed.Task;
            }

            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero || _workers.All(w => w.IsCompleted))
            {
                throw new TimeoutException($"{count} acknowledged request(s) expected within {timeout}; {this}");
            }

            await Task.WhenAny(changed, Task.Delay(left));
        }
    }

    /// <summary>Stops sending and waits for requests in flight (their outcome is counted).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _client.Dispose();
        _stop.Dispose();
    }

    public override string ToString() =>
        $"load: {Sent} sent, {Acknowledged} acknowledged ({AckedSpans.Count} spans, {AckedEvents.Count} events), {Failed} failed";

    private async Task RunAsync(int worker, int itemsPerRequest)
    {
        var turn = worker;
        while (!_stop.IsCancellationRequested && Interlocked.Increment(ref _sent) <= _maxRequests)
        {
            var payload = Payload.Create(Kinds[turn++ % Kinds.Length], itemsPerRequest);
            Acknowledged acknowledged;
            try
            {
                // Not cancelled by StopAsync: a request in flight finishes, so its answer is known.
                using var request = payload.ToRequest();
                using var response = await _client.SendAsync(request);
                acknowledged = await Payload.AcknowledgedAsync(payload, response);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or System.Text.Json.JsonException)
            {
                acknowledged = ProcessTests.Acknowledged.None;
            }

            Record(acknowledged);
            if (!acknowledged.Any)
            {
                try
                {
                    await Task.Delay(20, _stop.Token); // back off while the relay is away
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Record(Acknowledged acknowledged)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (acknowledged.Any)
            {
                _acknowledged++;
                _spans.AddRange(acknowledged.SpanIds);
                _events.AddRange(acknowledged.EventIds);
            }
            else
            {
                _failed++;
            }

            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}
