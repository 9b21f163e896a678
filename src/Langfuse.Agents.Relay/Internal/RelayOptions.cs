using System.Globalization;
using Langfuse.Agents.Internal.Configuration;
using Langfuse.Agents.Internal.Durable;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// How the relay runs. Upstream settings are the SDK's own <c>LANGFUSE_*</c> variables (read by the SDK's reader, so
/// both mean the same thing); the relay adds its client keys and its buffer directory.
/// </summary>
internal sealed record RelayOptions
{
    /// <summary>Where the relay listens unless <c>--urls</c> or <c>ASPNETCORE_URLS</c> says otherwise: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:3100";

    /// <summary>The batch endpoint's limit, as Langfuse (Next.js <c>"4.5mb"</c>): 4.5 × 1024 × 1024 bytes.</summary>
    public const long MaxIngestionBodyBytes = 4_718_592;

    /// <summary>
    /// Langfuse sets no OTLP limit but warns above 16 MB; the relay refuses more than this (as received, and as inflated)
    /// to bound its memory.
    /// </summary>
    public const long DefaultMaxOtlpBodyBytes = 16L * 1024 * 1024;

    /// <summary>The default total time a client has to send a whole body: 60 s.</summary>
    public static readonly TimeSpan DefaultBodyTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The default memory budget for bodies in flight: 256 MiB.</summary>
    public const long DefaultMaxInFlightBodyBytes = 256L * 1024 * 1024;

    /// <summary>The default size at which <c>dead-letter.jsonl</c> is rotated: 64 MiB (two files at most are kept).</summary>
    public const long DefaultDeadLetterMaxBytes = 64L * 1024 * 1024;

    /// <summary>The relay's default buffer cap (1 GiB): it is the only copy of what it acknowledged.</summary>
    public const long DefaultBufferMaxBytes = 1L << 30;

    /// <summary>Upstream Langfuse: base URL, keys, timeouts, retries, circuit breaker, retention.</summary>
    public required LangfuseOptions Upstream { get; init; }

    /// <summary>The public key clients must present (<c>LANGFUSE_RELAY_PUBLIC_KEY</c>, default the upstream's).</summary>
    public required string ClientPublicKey { get; init; }

    /// <summary>The secret key clients must present (<c>LANGFUSE_RELAY_SECRET_KEY</c>, default the upstream's).</summary>
    public required string ClientSecretKey { get; init; }

    /// <summary>The buffer directory itself (<c>LANGFUSE_BUFFER_DIR</c>, default <c>{state dir}/langfuse-agents/relay</c>).</summary>
    public required string BufferDirectory { get; init; }

    /// <summary>The buffer's byte cap (<c>LANGFUSE_BUFFER_MAX_BYTES</c>, default 1 GiB). At the cap the relay answers 503.</summary>
    public long BufferMaxBytes { get; init; } = DefaultBufferMaxBytes;

    /// <summary>OTLP bodies above this many bytes (as received) get 413.</summary>
    public long MaxOtlpBodyBytes { get; init; } = DefaultMaxOtlpBodyBytes;

    /// <summary>Fsync before acknowledging (<c>LANGFUSE_RELAY_FSYNC</c>, default true). False survives a crash of the relay, not of the machine.</summary>
    public bool Fsync { get; init; } = true;

    /// <summary>
    /// The total time a client has to send a whole request body (<c>LANGFUSE_RELAY_BODY_TIMEOUT</c>, seconds, default
    /// 60), however fast it trickles; past it, 408 and the connection is closed.
    /// </summary>
    public TimeSpan BodyTimeout { get; init; } = DefaultBodyTimeout;

    /// <summary>
    /// Bytes of request bodies (as received and inflated) all requests in flight may hold together
    /// (<c>LANGFUSE_RELAY_MAX_INFLIGHT_BYTES</c>, default 256 MiB); past it, 503 with <c>Retry-After</c>.
    /// </summary>
    public long MaxInFlightBodyBytes { get; init; } = DefaultMaxInFlightBodyBytes;

    /// <summary>
    /// The size at which <c>dead-letter.jsonl</c> is rotated to <c>dead-letter.1.jsonl</c>, replacing the older one
    /// (<c>LANGFUSE_RELAY_DEAD_LETTER_MAX_BYTES</c>, default 64 MiB): dead letters take at most twice this on disk.
    /// </summary>
    public long DeadLetterMaxBytes { get; init; } = DefaultDeadLetterMaxBytes;

    /// <summary>The <c>Retry-After</c> of a 503 when the disk cannot take a request.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Reads the options from environment variables; every problem is reported, none throws.</summary>
    public static RelayOptions? FromEnvironment(Func<string, string?> getVariable, out IReadOnlyList<string> problems)
    {
        var upstream = new LangfuseOptions();
        LangfuseSettingsReader.Apply(upstream, getVariable, out var settingProblems);
        var found = new List<string>(settingProblems);
        if (string.IsNullOrWhiteSpace(upstream.PublicKey) || string.IsNullOrWhiteSpace(upstream.SecretKey))
        {
            found.Add("LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are required: the relay forwards to Langfuse with them.");
        }
        else
        {
            found.AddRange(LangfuseOptionsValidator.Validate(upstream));
        }

        var clientPublic = getVariable("LANGFUSE_RELAY_PUBLIC_KEY");
        var clientSecret = getVariable("LANGFUSE_RELAY_SECRET_KEY");
        if (string.IsNullOrEmpty(clientPublic) != string.IsNullOrEmpty(clientSecret))
        {
            found.Add("LANGFUSE_RELAY_PUBLIC_KEY and LANGFUSE_RELAY_SECRET_KEY are set together or not at all.");
        }

        var maxBytes = DefaultBufferMaxBytes;
        if (!string.IsNullOrWhiteSpace(getVariable("LANGFUSE_BUFFER_MAX_BYTES")))
        {
            maxBytes = upstream.BufferMaxBytes; // parsed (and checked) by the SDK's reader
        }

        var fsync = true;
        var fsyncText = getVariable("LANGFUSE_RELAY_FSYNC");
        if (!string.IsNullOrWhiteSpace(fsyncText) && !bool.TryParse(fsyncText.Trim(), out fsync))
        {
            found.Add($"LANGFUSE_RELAY_FSYNC={fsyncText} is not true or false.");
            fsync = true;
        }

        var bodyTimeout = Number(getVariable, "LANGFUSE_RELAY_BODY_TIMEOUT", (long)DefaultBodyTimeout.TotalSeconds, 1, 3600, found);
        var inFlight = Number(getVariable, "LANGFUSE_RELAY_MAX_INFLIGHT_BYTES", DefaultMaxInFlightBodyBytes, 2 * DefaultMaxOtlpBodyBytes, long.MaxValue, found);
        var deadLetterMax = Number(getVariable, "LANGFUSE_RELAY_DEAD_LETTER_MAX_BYTES", DefaultDeadLetterMaxBytes, 64 * 1024, long.MaxValue, found);

        var directory = string.IsNullOrWhiteSpace(upstream.BufferDirectory)
            ? Path.Combine(Path.GetDirectoryName(BufferLocation.DefaultRoot(getVariable))!, "relay")
            : upstream.BufferDirectory!;

        problems = found;
        if (found.Count > 0)
        {
            return null;
        }

        return new RelayOptions
        {
            Upstream = upstream,
            ClientPublicKey = string.IsNullOrEmpty(clientPublic) ? upstream.PublicKey! : clientPublic,
            ClientSecretKey = string.IsNullOrEmpty(clientSecret) ? upstream.SecretKey! : clientSecret!,
            BufferDirectory = directory,
            BufferMaxBytes = maxBytes,
            Fsync = fsync,
            BodyTimeout = TimeSpan.FromSeconds(bodyTimeout),
            MaxInFlightBodyBytes = inFlight,
            DeadLetterMaxBytes = deadLetterMax,
        };
    }

    private static long Number(Func<string, string?> getVariable, string name, long fallback, long min, long max, List<string> problems)
    {
        var text = getVariable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (!long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name}={text} is not a whole number from {min} to {max}."));
            return fallback;
        }

        return value;
    }

    /// <summary>For the start-up line: never a key.</summary>
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"forwarding to {Langfuse.Agents.Internal.Diagnostics.Redaction.Url(Upstream.BaseUrl)}, buffering in {BufferDirectory} (cap {BufferMaxBytes / (1024 * 1024)} MiB, retention {Upstream.BufferRetention.TotalHours:0.#} h, fsync {(Fsync ? "on" : "off")})");
}
