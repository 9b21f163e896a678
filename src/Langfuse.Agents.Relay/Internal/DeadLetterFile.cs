using System.Text.Json;
using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// <c>dead-letter.jsonl</c> in the buffer directory (mode 0600): one JSON line per request or event that Langfuse
/// answered with a final rejection (a per-event 4xx in a 207, or 400/404/413 for a whole request), with the reason and
/// the body as sent, so the operator can see what was refused and why. Appended only; never read by the relay.
/// </summary>
internal sealed class DeadLetterFile(string path, TimeProvider timeProvider)
{
    public const string FileName = "dead-letter.jsonl";

    private readonly Lock _gate = new();
    private long _written;

    public string Path { get; } = path;

    public long Written => Interlocked.Read(ref _written);

    public void Append(DurableRecord record, string reason)
    {
        var line = Format(record, reason, timeProvider.GetUtcNow());
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        lock (_gate)
        {
            using var stream = new FileStream(Path, options);
            stream.Write(line);
            stream.Flush(flushToDisk: false);
        }

        Interlocked.Increment(ref _written);
    }

    private static byte[] Format(DurableRecord record, string reason, DateTimeOffset now)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("at", now);
            writer.WriteString("endpoint", record.Kind == PayloadKind.OtlpTraces ? "/api/public/otel/v1/traces" : "/api/public/ingestion");
            writer.WriteString("reason", reason);
            writer.WriteNumber("items", record.ItemCount);
            writer.WriteString("receivedAt", record.CreatedAt);
            if (record.ContentType is not null)
            {
                writer.WriteString("contentType", record.ContentType);
            }

            if (record.ContentEncoding is not null)
            {
                writer.WriteString("contentEncoding", record.ContentEncoding);
            }

            if (record.ContentEncoding is null && IsJson(record))
            {
                // Re-written compactly, not copied raw: bodies keep their senders' bytes now, newlines included, and
                // one entry must stay one line.
                writer.WritePropertyName("body");
                using var body = JsonDocument.Parse(record.Payload);
                body.RootElement.WriteTo(writer);
            }
            else
            {
                writer.WriteBase64String("bodyBase64", record.Payload.Span);
            }

            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static bool IsJson(DurableRecord record)
    {
        if (record.Kind == PayloadKind.OtlpTraces && !(record.ContentType ?? string.Empty).Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(record.Payload);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
