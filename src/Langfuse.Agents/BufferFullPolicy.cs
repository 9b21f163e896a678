namespace Langfuse.Agents;

/// <summary>What the on-disk buffer does when it reaches its byte cap. Either way the dropped items are counted.</summary>
public enum BufferFullPolicy
{
    /// <summary>Delete the oldest batches to make room: recent data is usually the most useful.</summary>
    DropOldest,

    /// <summary>Keep what is on disk and drop the new batch.</summary>
    RejectNewest,
}
