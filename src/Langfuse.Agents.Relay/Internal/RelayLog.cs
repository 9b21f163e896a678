using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>Every log line the relay writes. None takes a key or a body.</summary>
internal static partial class RelayLog
{
    public const string CategoryName = "Langfuse.Agents.Relay";

    [LoggerMessage(100, LogLevel.Information, "Langfuse relay started: {Description}; {Items} items waiting on disk from an earlier run.")]
    public static partial void Started(ILogger logger, string description, long items);

    [LoggerMessage(101, LogLevel.Error, "A group commit failed unexpectedly; its requests were answered 503.")]
    public static partial void CommitFailed(ILogger logger, Exception exception);

    [LoggerMessage(102, LogLevel.Warning, "The buffer cannot take more ({Outcome}); answering 503 with Retry-After until it can (rejected so far: {Count}).")]
    public static partial void BufferRefused(ILogger logger, string outcome, long count);

    [LoggerMessage(103, LogLevel.Warning, "Langfuse rejected {Items} items for good ({Reason}); written to {Path}.")]
    public static partial void DeadLettered(ILogger logger, int items, string reason, string path);

    [LoggerMessage(104, LogLevel.Error, "Could not write to the dead-letter file {Path}: {Reason}.")]
    public static partial void DeadLetterFailed(ILogger logger, string path, string reason);

    [LoggerMessage(105, LogLevel.Information, "Langfuse relay stopping: finishing in-flight writes; what is not forwarded yet stays on disk.")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(106, LogLevel.Warning, "The buffer gave up {Items} acknowledged items ({Reason}); {Total} so far for this reason (see dropped in /relay/status).")]
    public static partial void QueueDropped(ILogger logger, long items, string reason, long total);
}
