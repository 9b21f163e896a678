using System.Globalization;
using Langfuse.Agents.Internal.Configuration;
using Langfuse.Agents.Internal.Durable;
using Microsoft.Extensions.Configuration;

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

    /// <summary>The default number of requests that may wait for the group commit at once: past it, 503 with <c>Retry-After</c>.</summary>
    public const int DefaultMaxPendingRequests = 8192;

    /// <summary>
    /// How many requests may wait for the group commit at once (<c>LANGFUSE_RELAY_MAX_PENDING_REQUESTS</c>, default
    /// 8192): when the disk falls behind, the next request gets 503 with <c>Retry-After</c> instead of joining an
    /// unbounded line.
    /// </summary>
    public int MaxPendingRequests { get; init; } = DefaultMaxPendingRequests;

    /// <summary>What could not be read as given (each names its variable or configuration key); reported at start.</summary>
    public IReadOnlyList<string> ReadingProblems { get; init; } = [];

    /// <summary>True when only one of the two client keys was given (they are set together or not at all).</summary>
    public bool ClientKeysGivenApart { get; init; }

    /// <summary>
    /// Reads the options from the configuration's <c>Relay</c> section (into which
    /// <see cref="RelayConfiguration.AddLangfuseVariables"/> maps the <c>LANGFUSE_*</c> variables). Never throws: what
    /// cannot be read is kept in <see cref="ReadingProblems"/>, and <see cref="RelayOptionsValidator"/> reports it.
    /// </summary>
    /// <param name="configuration">The whole configuration.</param>
    /// <param name="environment">The process environment: the upstream's <c>LANGFUSE_*</c> variables, names for problems, the default state directory.</param>
    /// <param name="args">The command line, whose <c>--Relay:Upstream:*</c> values rank above the environment.</param>
    public static RelayOptions Read(IConfiguration configuration, Func<string, string?> environment, string[] args)
    {
        var relay = configuration.GetSection(RelayConfiguration.SectionName);
        var upstreamPath = RelayConfiguration.SectionName + ConfigurationPath.KeyDelimiter + RelayConfiguration.UpstreamSection;

        // The upstream in three layers, each read with its own names and units: the configuration section
        // (appsettings, Relay__ variables), the SDK's LANGFUSE_* variables, then the command line again on top.
        var upstream = new LangfuseOptions();
        LangfuseSettingsReader.Apply(upstream, configuration.GetSection(upstreamPath), out var fromConfiguration);
        LangfuseSettingsReader.Apply(upstream, environment, out var fromEnvironment);
        var commandLine = new ConfigurationBuilder().AddCommandLine(args).Build();
        LangfuseSettingsReader.Apply(upstream, commandLine.GetSection(upstreamPath), out var fromCommandLine);
        var found = fromConfiguration.Concat(fromEnvironment).Concat(fromCommandLine).Distinct(StringComparer.Ordinal).ToList();

        var reader = new SectionReader(relay, environment, found);
        var clientPublic = reader.Text(nameof(ClientPublicKey));
        var clientSecret = reader.Text(nameof(ClientSecretKey));
        var directory = reader.Text(nameof(BufferDirectory));
        return new RelayOptions
        {
            Upstream = upstream,
            ClientPublicKey = string.IsNullOrEmpty(clientPublic) ? upstream.PublicKey ?? string.Empty : clientPublic,
            ClientSecretKey = string.IsNullOrEmpty(clientSecret) ? upstream.SecretKey ?? string.Empty : clientSecret,
            ClientKeysGivenApart = string.IsNullOrEmpty(clientPublic) != string.IsNullOrEmpty(clientSecret),
            BufferDirectory = directory ?? Path.Combine(Path.GetDirectoryName(BufferLocation.DefaultRoot(environment))!, "relay"),
            BufferMaxBytes = reader.Number(nameof(BufferMaxBytes), DefaultBufferMaxBytes, LangfuseOptionsValidator.MinBufferBytes, long.MaxValue),
            Fsync = reader.Boolean(nameof(Fsync), true),
            BodyTimeout = TimeSpan.FromSeconds(reader.Number(nameof(BodyTimeout), (long)DefaultBodyTimeout.TotalSeconds, 1, 3600)),
            MaxInFlightBodyBytes = reader.Number(nameof(MaxInFlightBodyBytes), DefaultMaxInFlightBodyBytes, 2 * DefaultMaxOtlpBodyBytes, long.MaxValue),
            DeadLetterMaxBytes = reader.Number(nameof(DeadLetterMaxBytes), DefaultDeadLetterMaxBytes, 64 * 1024, long.MaxValue),
            MaxPendingRequests = (int)reader.Number(nameof(MaxPendingRequests), DefaultMaxPendingRequests, 1, 1_000_000),
            ReadingProblems = found,
        };
    }

    /// <summary>For the start-up line: never a key.</summary>
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"forwarding to {Langfuse.Agents.Internal.Diagnostics.Redaction.Url(Upstream.BaseUrl)}, buffering in {BufferDirectory} (cap {BufferMaxBytes / (1024 * 1024)} MiB, retention {Upstream.BufferRetention.TotalHours:0.#} h, fsync {(Fsync ? "on" : "off")})");
}
