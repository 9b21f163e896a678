namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Splits an OTLP <c>ExportTraceServiceRequest</c> (protobuf or OTLP/JSON) in two from its original bytes, by resource,
/// then scope, then span, so a request Langfuse answers 413 can be sent in parts that fit; and counts its spans. Each
/// part keeps its resource and scope exactly as sent.
/// </summary>
internal static class OtlpSplitter
{
    // Request.resource_spans = 1, ResourceSpans.scope_spans = 2, ScopeSpans.spans = 2; the JSON names Langfuse reads.
    private static readonly int[] ChildFields = [1, 2, 2];
    private static readonly byte[][] ChildNames = ["resourceSpans"u8.ToArray(), "scopeSpans"u8.ToArray(), "spans"u8.ToArray()];

    /// <summary>Spans in the request; -1 when it cannot be read.</summary>
    public static int CountSpans(ReadOnlyMemory<byte> request, bool json) => Count(request, 0, json);

    /// <summary>
    /// The request's resource spans, as raw elements, for merging OTLP/JSON requests by splicing their arrays. False when
    /// it is not readable OTLP/JSON.
    /// </summary>
    public static bool TryGetResourceSpans(ReadOnlyMemory<byte> request, out Range array, out List<ReadOnlyMemory<byte>> elements)
    {
        array = default;
        elements = [];
        if (!JsonSlices.TryFindArray(request.Span, ChildNames[0], out var layout))
        {
            return false;
        }

        array = layout.Array;
        foreach (var element in layout.Elements)
        {
            elements.Add(request.Slice(element.Start, element.Length));
        }

        return true;
    }

    /// <summary>
    /// Two requests that together hold exactly the spans of <paramref name="request"/>, or null when it holds at most one
    /// span or cannot be read (the caller sends it whole, or gives it up as too large).
    /// </summary>
    public static (byte[] First, byte[] Second)? TrySplit(ReadOnlyMemory<byte> request, bool json) => Split(request, 0, json);

    private static (byte[] First, byte[] Second)? Split(ReadOnlyMemory<byte> node, int level, bool json)
    {
        if (!TryChildren(node, level, json, out var children, out var rebuild))
        {
            return null;
        }

        if (children.Count >= 2)
        {
            var half = children.Count / 2;
            return (rebuild(children.GetRange(0, half)), rebuild(children.GetRange(half, children.Count - half)));
        }

        if (children.Count == 1 && level < ChildFields.Length - 1 && Split(children[0], level + 1, json) is { } inner)
        {
            return (rebuild([inner.First]), rebuild([inner.Second]));
        }

        return null;
    }

    private static int Count(ReadOnlyMemory<byte> node, int level, bool json)
    {
        if (!TryChildren(node, level, json, out var children, out _))
        {
            return -1;
        }

        if (level == ChildFields.Length - 1)
        {
            return children.Count;
        }

        var total = 0;
        foreach (var child in children)
        {
            var count = Count(child, level + 1, json);
            if (count < 0)
            {
                return -1;
            }

            total += count;
        }

        return total;
    }

    private static bool TryChildren(
        ReadOnlyMemory<byte> node,
        int level,
        bool json,
        out List<ReadOnlyMemory<byte>> children,
        out Func<IReadOnlyList<ReadOnlyMemory<byte>>, byte[]> rebuild)
    {
        children = [];
        if (json)
        {
            if (!JsonSlices.TryFindArray(node.Span, ChildNames[level], out var layout))
            {
                // A resource or scope without the array holds no spans; a request without it is not OTLP/JSON.
                rebuild = static _ => [];
                return level > 0 && IsObject(node.Span);
            }

            foreach (var element in layout.Elements)
            {
                children.Add(node.Slice(element.Start, element.Length));
            }

            var array = layout.Array;
            rebuild = elements => JsonSlices.ReplaceArray(node.Span, array, elements);
            return true;
        }

        var fields = new List<ProtoSlices.ProtoField>();
        if (!ProtoSlices.TryReadFields(node.Span, fields))
        {
            rebuild = static _ => [];
            return false;
        }

        var number = ChildFields[level];
        foreach (var field in fields)
        {
            if (field.Number != number)
            {
                continue;
            }

            if (!field.IsLengthDelimited)
            {
                rebuild = static _ => [];
                return false;
            }

            children.Add(node.Slice(field.PayloadStart, field.PayloadLength));
        }

        rebuild = elements => ProtoSlices.ReplaceRepeated(node.Span, fields, number, elements);
        return true;
    }

    private static bool IsObject(ReadOnlySpan<byte> json)
    {
        var trimmed = json.TrimStart(" \t\r\n"u8);
        return trimmed.Length > 0 && trimmed[0] == (byte)'{';
    }
}
