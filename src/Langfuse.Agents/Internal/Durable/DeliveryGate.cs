using Langfuse.Agents.Internal.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Pauses sending after a 401 or 403: the credentials (or the project's plan) will not fix themselves in a second, so
/// instead of a retry storm the data goes to disk and one probe is sent after the pause (1 min, doubling to 15 min).
/// A success anywhere reopens the gate.
/// </summary>
internal sealed class DeliveryGate(TimeProvider timeProvider, ILogger logger)
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromMinutes(15);

    private readonly Lock _gate = new();
    private DateTimeOffset _pausedUntil = DateTimeOffset.MinValue;
    private TimeSpan _nextPause = FirstPause;

    public bool IsPaused => RemainingPause > TimeSpan.Zero;

    public TimeSpan RemainingPause
    {
        get
        {
            lock (_gate)
            {
                var remaining = _pausedUntil - timeProvider.GetUtcNow();
                return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
            }
        }
    }

    public void Pause(int statusCode, string? reason)
    {
        TimeSpan pause;
        lock (_gate)
        {
            if (_pausedUntil > timeProvider.GetUtcNow())
            {
                return; // already paused: one log line per pause, not per batch
            }

            pause = _nextPause;
            _pausedUntil = timeProvider.GetUtcNow() + pause;
            _nextPause = pause * 2 < LongestPause ? pause * 2 : LongestPause;
        }

        Log.SendingPaused(logger, statusCode, reason ?? "(no reason given)", pause);
    }

    public void Succeeded()
    {
        lock (_gate)
        {
            if (_nextPause == FirstPause && _pausedUntil == DateTimeOffset.MinValue)
            {
                return;
            }

            _pausedUntil = DateTimeOffset.MinValue;
            _nextPause = FirstPause;
        }
    }
}
