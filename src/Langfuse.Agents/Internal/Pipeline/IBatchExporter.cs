namespace Langfuse.Agents.Internal.Pipeline;

/// <summary>
/// Delivers one batch of items (ended observations with their trace attributes, and scores). It accounts for
/// every item it is given, as exported or dropped by reason, even when it fails; it never throws.
/// </summary>
internal interface IBatchExporter
{
    Task ExportAsync(IReadOnlyList<ExportItem> batch, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps items that shutdown has no time left to send: on disk when there is a buffer, otherwise dropped and
    /// counted as <paramref name="reasonWithoutBuffer"/>. Synchronous and local; never throws.
    /// </summary>
    void Persist(IReadOnlyList<ExportItem> batch, DropReason reasonWithoutBuffer);
}
