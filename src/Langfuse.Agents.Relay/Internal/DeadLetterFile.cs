using System.Text.Json;
using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// <c>dead-letter.jsonl</c> in the buffer directory (mode 0600): one JSON line per request or event that Langfuse
/// answered with a final rejection (a per-event 4xx in a 207, or 400/404/413 for a whole request), with the reason and
/// the body as sent, so the operator can see what was refused and why. Appended only; never read by the relay.
/// <para>
/// Bounded: when a line would take the file past <see cref="MaxBytes"/>, the file becomes <c>dead-letter.1.jsonl</c>
/// (replacing the older one, whose entries are counted as <see cref="Discarded"/>) and a new file is started, so dead
/// letters take at most twice <see cref="MaxBytes"/>. A line that alone exceeds it is written without its body
/// (<c>"bodyOmitted": true</c> and its size), counted in <see cref="BodiesOmitted"/>. The file is opened without
/// following links and only if it is a regular file of this user (<see cref="RelayFiles"/>): a link planted in its
/// place is refused with an error saying so, and nothing is written through it.
/// </para>
/// </summary>
internal sealed class DeadLetterFile(string path, long maxBytes, TimeProvider timeProvider)
{
    public const string FileName = "dead-letter.jsonl";
    public const string RotatedFileName = "dead-letter.1.jsonl";

    private readonly Lock _gate = new();
    private long _written;
    private long _discarded;
    private long _omitted;
    private long _rotations;

    public string Path { get; } = path;

    public string RotatedPath { get; } = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, RotatedFileName);

    public long MaxBytes { get; } = maxBytes;

    /// <summary>Entries written by this process.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Entries deleted with an older rotated file.</summary>
    public long Discarded => Interlocked.Read(ref _discarded);

    /// <summary>Entries written without their body, which alone exceeded <see cref="MaxBytes"/>.</summary>
    public long BodiesOmitted => Interlocked.Read(ref _omitted);

    /// <summary>How many times the file was rotated.</summary>
    public long Rotations => Interlocked.Read(ref _rotations);

    /// <summary>Appends one entry. Throws <see cref="IOException"/> (saying why) when the file cannot be written safely.</summary>
    public void Append(DurableRecord record, string reason)
    {
        var now = timeProvider.GetUtcNow();
        var line = Format(record, reason, now, withBody: true);
        var omitted = false;
        if (line.Length > MaxBytes)
        {
            line = Format(record, reason, now, withBody: false);
            omitted = true;
        }

        lock (_gate)
        {
            using var stream = RelayFiles.OpenAppend(Path);
            if (stream.Length > 0 && stream.Length + line.Length > MaxBytes)
            {
                stream.Dispose();
                Rotate();
                using var fresh = RelayFiles.OpenAppend(Path);
                fresh.Write(line);
            }
            else
            {
                stream.Write(line);
            }
        }

        Interlocked.Increment(ref _written);
        if (omitted)
        {
            Interlocked.Increment(ref _omitted);
        }
    }

    private void Rotate()
    {
        var dropped = 0L;
        if (File.Exists(RotatedPath) || new FileInfo(RotatedPath).LinkTarget is not null)
        {
            dropped = CountLines(RotatedPath);
        }

        // rename(2) replaces the older rotated file (or a link in its place: the link, never its target).
        File.Move(Path, RotatedPath, overwrite: true);
        Interlocked.Add(ref _discarded, dropped);
        Interlocked.Increment(ref _rotations);
    }

    private static long CountLines(string file)
    {
        try
        {
            using var stream = RelayFiles.OpenRead(file);
            var buffer = new byte[65536];
            long lines = 0;
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
            }

            return lines;
        }
        catch (IOException)
        {
            return 0; // not ours to read (a link, a FIFO): it is replaced all the same
        }
    }

    private static byte[] Format(DurableRecord record, string reason, DateTimeOffset now, bool withBody)
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

            if (!withBody)
            {
                writer.WriteBoolean("bodyOmitted", true);
                writer.WriteNumber("bodyBytes", record.Payload.Length);
            }
            else if (record.ContentEncoding is null && IsJson(record))
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
