namespace Langfuse.Agents.Testing;

/// <summary>One HTTP request the fake server received, whatever it answered.</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Request path, without query string.</param>
/// <param name="Headers">Request headers (case-insensitive names; repeated headers joined with ", ").</param>
/// <param name="ContentType">Content-Type header, or null.</param>
/// <param name="ContentEncoding">Content-Encoding header, or null.</param>
/// <param name="BodyLength">Body length as sent on the wire (compressed, if it was).</param>
/// <param name="Body">Body after gzip decoding (empty if it could not be decoded).</param>
/// <param name="StatusCode">Status answered; 0 when the connection was dropped or the client went away.</param>
/// <param name="Fault">The planned fault that shaped the answer, or null.</param>
/// <param name="ReceivedAt">Wall-clock time the request arrived.</param>
public sealed record ReceivedRequest(
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    string? ContentType,
    string? ContentEncoding,
    long BodyLength,
    byte[] Body,
    int StatusCode,
    string? Fault,
    DateTimeOffset ReceivedAt)
{
    /// <summary>Header value, or null (case-insensitive name).</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>Decoded body as UTF-8 text.</summary>
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Method} {Path} ({ContentType ?? "no content type"}{(ContentEncoding is null ? "" : ", " + ContentEncoding)}, {BodyLength} bytes) -> {StatusCode}{(Fault is null ? "" : " [" + Fault + "]")}";
}
