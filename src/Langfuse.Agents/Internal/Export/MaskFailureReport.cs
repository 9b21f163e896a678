using Langfuse.Agents.Internal.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Export;

/// <summary>
/// Reports a failing mask function at most once a minute, with the number of values it failed on: a mask that throws
/// throws for every value, and one line per value would drown the application's log.
/// </summary>
/// <remarks>Used by the single export loop only, so it needs no locking.</remarks>
internal sealed class MaskFailureReport(ILogger logger, TimeProvider timeProvider)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private long _pending;
    private DateTimeOffset? _lastReport;

    public void Failed(Exception exception)
    {
        _pending++;
        var now = timeProvider.GetUtcNow();
        if (_lastReport is { } last && now - last < Interval)
        {
            return;
        }

        Log.MaskFailed(logger, exception.GetType().Name, _pending);
        _pending = 0;
        _lastReport = now;
    }
}
