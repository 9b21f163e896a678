using System.Text.Json;
using System.Text.Json.Serialization;
using Langfuse.Agents.Internal.Http;

namespace Langfuse.Agents.Internal.Export;

/// <summary>The <c>207 Multi-Status</c> answer of <c>POST /api/public/ingestion</c>: one entry per event.</summary>
/// <remarks>
/// An event counts as delivered only when its envelope id is listed in <see cref="Successes"/> (and in no error):
/// an event the answer does not mention, or an answer that cannot be read, is "unknown", and unknown is resent
/// (envelope ids make a resend idempotent), never counted as delivered.
/// </remarks>
internal sealed class IngestionResponse
{
    /// <summary>The least a 207 body may take: a small batch's answer, whatever the request size.</summary>
    public const long MinBodyBytes = 64 * 1024;

    /// <summary>The most any 207 body may take, however large the request: a bound on memory, not a guess at sizes.</summary>
    public const long MaxBodyBytes = 128L * 1024 * 1024;

    /// <summary>
    /// Bytes of answer allowed per byte of request. An event's answer entry (<c>{"id":...,"status":400,
    /// "message":...,"error":...}</c>) repeats its id and adds a message and an error text of a few hundred bytes at
    /// most, while the smallest event Langfuse takes is about 80 bytes; 16 leaves room for long validation errors.
    /// </summary>
    public const int BodyBytesPerRequestByte = 16;

    private HashSet<string>? _accepted;
    private Dictionary<string, IngestionError>? _failed;

    [JsonPropertyName("successes")]
    public List<IngestionSuccess>? Successes { get; set; }

    [JsonPropertyName("errors")]
    public List<IngestionError>? Errors { get; set; }

    /// <summary>
    /// How many bytes of 207 answer a request of <paramref name="requestBytes"/> may get: proportional to the batch, so a
    /// 10,000-event batch whose every event failed is read whole, and bounded, so a hostile or broken answer cannot
    /// take unbounded memory.
    /// </summary>
    public static long MaxBodyBytesFor(long requestBytes) =>
        requestBytes >= MaxBodyBytes / BodyBytesPerRequestByte ? MaxBodyBytes
            : Math.Clamp(MinBodyBytes + (Math.Max(0, requestBytes) * BodyBytesPerRequestByte), MinBodyBytes, MaxBodyBytes);

    /// <summary>
    /// Reads a 207 body from <paramref name="body"/> as it arrives (source-generated System.Text.Json, no intermediate
    /// string), refusing more than <paramref name="maxBytes"/>. Null, never an exception, when the body is not a 207
    /// answer or is longer than allowed: the caller treats every event of the request as unknown.
    /// </summary>
    public static async Task<IngestionResponse?> ReadAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            var bounded = new BoundedReadStream(body, maxBytes);
            await using (bounded.ConfigureAwait(false))
            {
                return Normalize(await JsonSerializer.DeserializeAsync(bounded, LangfuseJsonContext.Default.IngestionResponse, cancellationToken).ConfigureAwait(false));
            }
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException or BodyTooLargeException)
        {
            return null;
        }
    }

    /// <summary>
    /// True when the answer lists <paramref name="eventId"/> as accepted and reports no error for it: the only way an
    /// event counts as delivered.
    /// </summary>
    public bool IsAccepted(string eventId)
    {
        EnsureIndex();
        return _accepted!.Contains(eventId) && !_failed!.ContainsKey(eventId);
    }

    /// <summary>The error the answer reports for <paramref name="eventId"/> (the first, if several), if any.</summary>
    public bool TryGetError(string eventId, out IngestionError error)
    {
        EnsureIndex();
        return _failed!.TryGetValue(eventId, out error!);
    }

    /// <summary>
    /// Reads a 207 body. Missing or null arrays become empty and null entries are dropped; unknown fields are
    /// ignored. Returns null, never throws, when the body is not such an object (the caller treats that as a failure).
    /// </summary>
    public static IngestionResponse? TryParse(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            return Normalize(JsonSerializer.Deserialize(utf8Json, LangfuseJsonContext.Default.IngestionResponse));
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <inheritdoc cref="TryParse(ReadOnlySpan{byte})"/>
    public static IngestionResponse? TryParse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return Normalize(JsonSerializer.Deserialize(json, LangfuseJsonContext.Default.IngestionResponse));
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private void EnsureIndex()
    {
        if (_accepted is not null)
        {
            return;
        }

        var failed = new Dictionary<string, IngestionError>(StringComparer.Ordinal);
        foreach (var error in Errors ?? [])
        {
            if (error.Id is { } id)
            {
                failed.TryAdd(id, error);
            }
        }

        var accepted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var success in Successes ?? [])
        {
            if (success.Id is { } id)
            {
                accepted.Add(id);
            }
        }

        _failed = failed;
        _accepted = accepted;
    }

    private static IngestionResponse? Normalize(IngestionResponse? response)
    {
        if (response is null)
        {
            return null;
        }

        response.Successes = response.Successes is null ? [] : [.. response.Successes.Where(static s => s is not null)];
        response.Errors = response.Errors is null ? [] : [.. response.Errors.Where(static e => e is not null)];
        return response;
    }
}
