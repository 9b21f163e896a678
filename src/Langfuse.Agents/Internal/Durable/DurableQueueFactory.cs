using Langfuse.Agents.Internal.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>Opens the tracer's on-disk buffer from its options; never throws (an unusable buffer is reported once).</summary>
internal static class DurableQueueFactory
{
    public static IDurableQueue? Open(LangfuseOptions options, TimeProvider timeProvider, ILogger logger, LangfuseMetrics metrics, IDurableFileSystem? fileSystem = null)
    {
        var path = BufferLocation.Resolve(options);
        try
        {
            var queue = DurableQueue.Open(
                new DurableQueueOptions
                {
                    Directory = path,
                    MaxBytes = options.BufferMaxBytes,
                    Retention = options.BufferRetention,
                    FullPolicy = options.BufferFullPolicy == BufferFullPolicy.RejectNewest ? DurableFullPolicy.RejectNewest : DurableFullPolicy.DropOldest,
                },
                timeProvider,
                logger,
                (reason, items) => metrics.Dropped(reason, (int)Math.Min(int.MaxValue, items)),
                fileSystem);
            return queue; // an unavailable queue has said why, once, naming its path
        }
        catch (Exception ex)
        {
            Log.BufferUnavailable(logger, path, $"{ex.GetType().Name}: {ex.Message}");
            return null;
        }
    }
}
