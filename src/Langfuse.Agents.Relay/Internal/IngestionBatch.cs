namespace Langfuse.Agents.Relay.Internal;

/// <summary>A batch body as received, with where its events and its metadata are in it.</summary>
internal sealed class IngestionBatch(ReadOnlyMemory<byte> source, IReadOnlyList<BatchEvent> events, Range? metadata, bool sourceIsUtf8)
{
    /// <summary>The body as received (inflated if it came compressed).</summary>
    public ReadOnlyMemory<byte> Source { get; } = source;

    /// <summary>Every event, in order, with its validation result.</summary>
    public IReadOnlyList<BatchEvent> Events { get; } = events;

    /// <summary>
    /// The body to store for <paramref name="valid"/>: the source itself when every event is valid, else
    /// <c>{"batch":[...],"metadata":...}</c> made of the original bytes of the valid events and of the metadata (also
    /// when other parts of the envelope are not valid UTF-8). Never larger than the source.
    /// </summary>
    public ReadOnlyMemory<byte> Compose(IReadOnlyList<BatchEvent> valid)
    {
        if (valid.Count == Events.Count && sourceIsUtf8)
        {
            return Source;
        }

        var span = Source.Span;
        var size = "{\"batch\":[]}".Length + Math.Max(0, valid.Count - 1);
        foreach (var item in valid)
        {
            size += item.Bytes.GetOffsetAndLength(span.Length).Length;
        }

        if (metadata is { } meta)
        {
            size += ",\"metadata\":".Length + meta.GetOffsetAndLength(span.Length).Length;
        }

        var body = new byte[size];
        var written = 0;
        Append(body, ref written, "{\"batch\":["u8);
        for (var i = 0; i < valid.Count; i++)
        {
            if (i > 0)
            {
                Append(body, ref written, ","u8);
            }

            Append(body, ref written, span[valid[i].Bytes]);
        }

        Append(body, ref written, "]"u8);
        if (metadata is { } range)
        {
            Append(body, ref written, ",\"metadata\":"u8);
            Append(body, ref written, span[range]);
        }

        Append(body, ref written, "}"u8);
        return body;
    }

    private static void Append(byte[] target, ref int written, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(target.AsSpan(written));
        written += bytes.Length;
    }
}
