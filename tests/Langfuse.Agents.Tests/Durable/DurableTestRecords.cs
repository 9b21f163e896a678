using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>Records with contents known from their index (the same as the crash app writes), and a drop counter.</summary>
internal static class DurableTestRecords
{
    public static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>"record &lt;index&gt;;" then 0-64 KiB of bytes seeded by the index. Must match the crash app's.</summary>
    public static byte[] Payload(int index)
    {
        var random = new Random(index);
        var prefix = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"record {index};"));
        var bytes = new byte[prefix.Length + random.Next(0, 64 * 1024)];
        prefix.CopyTo(bytes, 0);
        random.NextBytes(bytes.AsSpan(prefix.Length));
        return bytes;
    }

    /// <summary>The index a payload starts with, or -1.</summary>
    public static int IndexOf(DurableRecord record)
    {
        var text = Encoding.ASCII.GetString(record.Payload.Span[..Math.Min(32, record.Payload.Length)]);
        var end = text.IndexOf(';', StringComparison.Ordinal);
        return end > 7 && text.StartsWith("record ", StringComparison.Ordinal) &&
            int.TryParse(text.AsSpan(7, end - 7), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1;
    }

    public static DurableRecord Record(int index, DateTimeOffset? createdAt = null, int? items = null, int payloadBytes = -1) => new(
        index % 2 == 0 ? PayloadKind.OtlpTraces : PayloadKind.IngestionBatch,
        items ?? 1 + (index % 3),
        createdAt ?? Now,
        payloadBytes < 0 ? Payload(index) : Small(index, payloadBytes),
        index % 2 == 0 ? "application/x-protobuf" : null,
        index % 5 == 0 ? "gzip" : null);

    public static DurableRecord[] Records(int first, int count, DateTimeOffset? createdAt = null, int payloadBytes = -1) =>
        [.. Enumerable.Range(first, count).Select(i => Record(i, createdAt, payloadBytes: payloadBytes))];

    /// <summary>A payload of exactly <paramref name="bytes"/> bytes (at least the prefix) that still starts with its index.</summary>
    private static byte[] Small(int index, int bytes)
    {
        var prefix = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"record {index};"));
        var payload = new byte[Math.Max(bytes, prefix.Length)];
        prefix.CopyTo(payload, 0);
        payload.AsSpan(prefix.Length).Fill((byte)index);
        return payload;
    }
}

/// <summary>Counts what a queue reports dropped.</summary>
internal sealed class DropCounter
{
    private readonly ConcurrentQueue<(DropReason Reason, long Items)> _drops = new();

    public Action<DropReason, long> Callback => (reason, items) => _drops.Enqueue((reason, items));

    public long Items(DropReason reason) => _drops.Where(d => d.Reason == reason).Sum(d => d.Items);

    public long Total => _drops.Sum(d => d.Items);
}

/// <summary>Record comparison by contents (a record's equality compares payload memory by reference).</summary>
internal static class DurableRecordAssertions
{
    public static void ShouldMatch(this DurableRecord actual, DurableRecord expected)
    {
        Shouldly.ShouldBeTestExtensions.ShouldBe(actual.Kind, expected.Kind);
        Shouldly.ShouldBeTestExtensions.ShouldBe(actual.ItemCount, expected.ItemCount);
        Shouldly.ShouldBeTestExtensions.ShouldBe(actual.CreatedAt, expected.CreatedAt);
        Shouldly.ShouldBeStringTestExtensions.ShouldBe(actual.ContentType, expected.ContentType);
        Shouldly.ShouldBeStringTestExtensions.ShouldBe(actual.ContentEncoding, expected.ContentEncoding);
        Shouldly.ShouldBeBooleanExtensions.ShouldBeTrue(actual.Payload.Span.SequenceEqual(expected.Payload.Span), "payload differs");
    }

    public static void ShouldMatch(this IReadOnlyList<DurableRecord> actual, IReadOnlyList<DurableRecord> expected)
    {
        Shouldly.ShouldBeTestExtensions.ShouldBe(actual.Count, expected.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            actual[i].ShouldMatch(expected[i]);
        }
    }
}
