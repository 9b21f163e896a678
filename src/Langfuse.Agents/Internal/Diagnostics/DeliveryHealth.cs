using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Diagnostics;

/// <summary>
/// Keeps an outage to two log lines: one warning when attempts start failing, and one line when Langfuse answers
/// again, with what happened meanwhile (failed attempts, items that could not be sent, how many of them were kept
/// on disk or dropped). Everything between goes to Debug. Shared by every path that sends (exporter and forwarder).
/// </summary>
internal sealed class DeliveryHealth(ILogger logger, TimeProvider timeProvider)
{
    private readonly Lock _lock = new();
    private bool _failing;
    private long _since;
    private long _failedAttempts;
    private long _failedItems;
    private long _buffered;
    private long _dropped;

    /// <summary>Whether the last attempts failed and no success has come since.</summary>
    public bool IsFailing
    {
        get
        {
            lock (_lock)
            {
                return _failing;
            }
        }
    }

    /// <summary>An attempt failed in a way time may fix (network error, timeout, 408, 429, 5xx).</summary>
    public void AttemptFailed(string failure)
    {
        lock (_lock)
        {
            _failedAttempts++;
            if (_failing)
            {
                return;
            }

            _failing = true;
            _since = timeProvider.GetTimestamp();
        }

        Log.DeliveryFailing(logger, failure);
    }

    /// <summary>A batch could not be delivered now; <paramref name="buffered"/> when it was kept on disk.</summary>
    public void Undelivered(int items, bool buffered)
    {
        lock (_lock)
        {
            _failedItems += items;
            if (buffered)
            {
                _buffered += items;
            }
            else
            {
                _dropped += items;
            }
        }
    }

    /// <summary>Langfuse accepted a request.</summary>
    public void Succeeded()
    {
        long attempts, items, buffered, dropped;
        TimeSpan duration;
        lock (_lock)
        {
            if (!_failing)
            {
                return;
            }

            (attempts, items, buffered, dropped) = (_failedAttempts, _failedItems, _buffered, _dropped);
            duration = timeProvider.GetElapsedTime(_since);
            _failing = false;
            (_failedAttempts, _failedItems, _buffered, _dropped) = (0, 0, 0, 0);
        }

        Log.DeliveryRecovered(logger, duration, attempts, items, buffered, dropped);
    }
}
