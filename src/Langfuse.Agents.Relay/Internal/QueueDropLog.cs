using Langfuse.Agents.Internal.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// The relay's side of the queue's drop callback: what the queue gives up (a corrupt record skipped, a segment past
/// retention, eviction at the cap) was acknowledged to a client, so each drop is counted in the forwarder's metrics
/// (the <c>dropped</c> of <c>/relay/status</c> and <c>langfuse.relay.items.dropped</c>) and logged: the first of each
/// reason at once, later ones at most once a minute per reason with the count since the last line, so a damaged
/// backlog cannot flood the log.
/// </summary>
internal sealed class QueueDropLog(LangfuseMetrics metrics, ILogger logger, TimeProvider time)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly Dictionary<DropReason, (DateTimeOffset LastLine, long Pending)> _state = [];

    public void Report(DropReason reason, long items)
    {
        if (items <= 0)
        {
            return;
        }

        metrics.Dropped(reason, (int)Math.Min(int.MaxValue, items));
        var now = time.GetUtcNow();
        long toLog;
        lock (_gate)
        {
            var pending = items;
            if (_state.TryGetValue(reason, out var state))
            {
                pending += state.Pending;
                if (now - state.LastLine < Interval)
                {
                    _state[reason] = (state.LastLine, pending);
                    return;
                }
            }

            _state[reason] = (now, 0);
            toLog = pending;
        }

        RelayLog.QueueDropped(logger, toLog, LangfuseMetrics.ReasonName(reason), metrics.DroppedCount(reason));
    }
}
