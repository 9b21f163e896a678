namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// A batch JSON body (<c>{"batch":[...],"metadata":...}</c>) read without a DOM: where each event's bytes are, with
/// its envelope id and type, so the forwarder can merge batches, settle a 207 per event and build a smaller batch
/// from the original bytes of the events still to send. Each event carries a weight (0 or 1 items) so that the item
/// counts of the parts always add up to the record's.
/// </summary>
internal sealed class IngestionBatch
{
    private readonly Range _array;

    private IngestionBatch(ReadOnlyMemory<byte> body, Range array, IReadOnlyList<BatchEvent> events)
    {
        Body = body;
        _array = array;
        Events = events;
    }

    /// <summary>The body (not compressed).</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Its events, in order.</summary>
    public IReadOnlyList<BatchEvent> Events { get; }

    /// <summary>
    /// Reads a batch body; null when it is not a JSON object with a <c>batch</c> array. <paramref name="itemCount"/> is
    /// the record's count: when it counts every event (the relay's records) each event weighs 1; otherwise (the SDK's,
    /// which does not count <c>trace-create</c>) trace events weigh 0. What is left over goes to the first event.
    /// </summary>
    public static IngestionBatch? TryRead(ReadOnlyMemory<byte> body, int itemCount)
    {
        if (!JsonSlices.TryFindArray(body.Span, "batch"u8, out var layout))
        {
            return null;
        }

        var events = new BatchEvent[layout.Elements.Count];
        var countsTraces = itemCount == events.Length;
        var total = 0;
        for (var i = 0; i < events.Length; i++)
        {
            var element = layout.Elements[i];
            var bytes = body.Slice(element.Start, element.Length);
            var (id, type) = JsonSlices.ReadEnvelope(bytes.Span);
            var weight = countsTraces || type != "trace-create" ? 1 : 0;
            total += weight;
            events[i] = new BatchEvent(bytes, id, type, weight);
        }

        var residual = itemCount - total;
        for (var i = 0; i < events.Length && residual != 0; i++)
        {
            // Spread what the record's count says beyond the events (or short of them) without going below zero.
            var adjusted = Math.Max(0, events[i].Weight + residual);
            residual -= adjusted - events[i].Weight;
            events[i] = events[i] with { Weight = adjusted };
        }

        return new IngestionBatch(body, layout.Array, events);
    }

    /// <summary>A body with the same metadata (and any other top-level field) and only <paramref name="events"/>.</summary>
    public byte[] With(IReadOnlyList<BatchEvent> events)
    {
        var elements = new ReadOnlyMemory<byte>[events.Count];
        for (var i = 0; i < elements.Length; i++)
        {
            elements[i] = events[i].Bytes;
        }

        return JsonSlices.ReplaceArray(Body.Span, _array, elements);
    }

    /// <summary>
    /// The batch of only <paramref name="events"/> (some of this batch's, in order): same metadata, the events' original
    /// bytes, their weights unchanged.
    /// </summary>
    public IngestionBatch Subset(IReadOnlyList<BatchEvent> events)
    {
        var body = With(events);
        var read = TryRead(body, Weight(events))!; // built from valid elements of a valid object
        var weighted = new BatchEvent[read.Events.Count];
        for (var i = 0; i < weighted.Length; i++)
        {
            weighted[i] = read.Events[i] with { Weight = events[i].Weight };
        }

        return new IngestionBatch(body, read._array, weighted);
    }

    /// <summary>Items in <paramref name="events"/>.</summary>
    public static int Weight(IEnumerable<BatchEvent> events)
    {
        var total = 0;
        foreach (var e in events)
        {
            total += e.Weight;
        }

        return total;
    }

    /// <summary>One event: its bytes as sent, envelope id and type (null when missing or not strings), and items it counts for.</summary>
    internal readonly record struct BatchEvent(ReadOnlyMemory<byte> Bytes, string? Id, string? Type, int Weight);
}
