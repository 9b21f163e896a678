using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>Every log line the durable queue writes (event ids 60-79). Paths only, never a key or a payload.</summary>
internal static partial class DurableLog
{
    public const string CategoryName = "Langfuse.Agents.Durable";

    [LoggerMessage(60, LogLevel.Warning, "The Langfuse disk buffer directory {Directory} is not private (mode {Mode}) and could not be made private ({Reason}); nothing will be buffered on disk.")]
    public static partial void NotPrivate(ILogger logger, string directory, string mode, string reason);

    [LoggerMessage(61, LogLevel.Warning, "The Langfuse disk buffer directory {Directory} cannot be used ({Reason}); nothing will be buffered on disk.")]
    public static partial void Unusable(ILogger logger, string directory, string reason);

    [LoggerMessage(62, LogLevel.Warning, "Writing to the Langfuse disk buffer in {Directory} failed ({Reason}); those items were not buffered. Further failures are not logged until a write succeeds.")]
    public static partial void WriteFailed(ILogger logger, string directory, string reason);

    [LoggerMessage(63, LogLevel.Information, "Writing to the Langfuse disk buffer in {Directory} works again.")]
    public static partial void WriteRecovered(ILogger logger, string directory);

    [LoggerMessage(64, LogLevel.Warning, "Dropped {Items} items ({Segments} segment files) from the Langfuse disk buffer in {Directory}: {Why}{Since}.")]
    public static partial void Dropped(ILogger logger, long items, long segments, string directory, string why, string since);

    [LoggerMessage(65, LogLevel.Debug, "Could not {Operation} {Path} in the Langfuse disk buffer ({Reason}).")]
    public static partial void FileFailed(ILogger logger, string operation, string path, string reason);

    [LoggerMessage(66, LogLevel.Debug, "This process now replays the Langfuse disk buffer in {Directory}.")]
    public static partial void LockTaken(ILogger logger, string directory);

    [LoggerMessage(67, LogLevel.Warning, "The Langfuse disk buffer in {Directory} is full ({Bytes} of {MaxBytes} bytes); {Detail}.")]
    public static partial void Full(ILogger logger, string directory, long bytes, long maxBytes, string detail);

    [LoggerMessage(68, LogLevel.Warning, "The Langfuse disk buffer directory {Directory} is refused: it {Reason}; nothing will be buffered on disk.")]
    public static partial void Refused(ILogger logger, string directory, string reason);

    [LoggerMessage(69, LogLevel.Warning, "Ignored {Count} files in the Langfuse disk buffer {Directory} that it cannot trust, never reading or deleting them: {Examples}.")]
    public static partial void Untrusted(ILogger logger, int count, string directory, string examples);

    [LoggerMessage(70, LogLevel.Warning, "The Langfuse disk buffer directory {Directory} was writable by other users (mode {Mode}); it is now 0700, and files in it that this user does not own are ignored.")]
    public static partial void WasShared(ILogger logger, string directory, string mode);
}
