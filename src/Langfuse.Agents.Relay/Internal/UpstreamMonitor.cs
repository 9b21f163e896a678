using Langfuse.Agents.Internal.Http;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// The upstream client, watched: remembers the last answer and failure so the status endpoint can say how Langfuse is
/// doing, and so the relay wakes the forwarder on new data only while Langfuse answers (during an outage the forwarder's
/// own back-off decides when to try again). A view, not a decision: what counts as a success or as a failure time may
/// fix is what <see cref="DeliveryClassifier"/> says for the forwarder.
/// </summary>
internal sealed class UpstreamMonitor(ILangfuseApi inner, TimeProvider timeProvider) : ILangfuseApi
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _lastSuccess;
    private DateTimeOffset? _lastFailure;
    private int? _lastStatus;
    private string? _lastError;
    private int _inFlight;

    public bool LooksHealthy
    {
        get
        {
            lock (_gate)
            {
                return _lastFailure is null || (_lastSuccess is { } success && success >= _lastFailure);
            }
        }
    }

    public UpstreamSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new UpstreamSnapshot(_lastSuccess, _lastFailure, _lastStatus, _lastError, Volatile.Read(ref _inFlight));
        }
    }

    public Task<ApiResponse> PostOtlpTracesAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken, string? contentType = null, string? contentEncoding = null) =>
        ObserveAsync(inner.PostOtlpTracesAsync(body, cancellationToken, contentType, contentEncoding));

    public Task<ApiResponse> PostIngestionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken, string? contentEncoding = null) =>
        ObserveAsync(inner.PostIngestionAsync(json, cancellationToken, contentEncoding));

    public Task<ApiResponse> GetHealthAsync(CancellationToken cancellationToken) => ObserveAsync(inner.GetHealthAsync(cancellationToken));

    private async Task<ApiResponse> ObserveAsync(Task<ApiResponse> call)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            var response = await call;
            lock (_gate)
            {
                _lastStatus = response.StatusCode;
                switch (DeliveryClassifier.Classify(response, perEventEndpoint: true))
                {
                    case DeliveryVerdict.Delivered or DeliveryVerdict.PerEvent:
                        _lastSuccess = timeProvider.GetUtcNow();
                        break;
                    case DeliveryVerdict.RetryLater or DeliveryVerdict.Pause:
                        _lastFailure = timeProvider.GetUtcNow();
                        _lastError = $"HTTP {response.StatusCode}";
                        break;
                }
            }

            return response;
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                _lastStatus = null;
                _lastFailure = timeProvider.GetUtcNow();
                _lastError = ex.GetType().Name; // never the message: it may carry a URL
            }

            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}

/// <summary>What the relay knows of the upstream.</summary>
internal readonly record struct UpstreamSnapshot(DateTimeOffset? LastSuccess, DateTimeOffset? LastFailure, int? LastStatus, string? LastError, int InFlight);
