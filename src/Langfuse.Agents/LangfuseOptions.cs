using System.Text.Json;

namespace Langfuse.Agents;

/// <summary>
/// Settings of the Langfuse.Agents SDK. Every option has an environment variable with the official Langfuse SDKs'
/// name and meaning where one exists; <see cref="FromEnvironment()"/> reads them, and
/// <c>services.AddLangfuse(configuration)</c> also reads the <c>Langfuse</c> configuration section.
/// A value that cannot be used is replaced by its default (or normalised, such as an environment's case) and reported
/// once, all together; tracing turns itself off only when it cannot work (no keys, an unusable base URL) or is disabled.
/// </summary>
public sealed class LangfuseOptions
{
    /// <summary>The default server, Langfuse Cloud (EU).</summary>
    public const string DefaultBaseUrl = "https://cloud.langfuse.com";

    /// <summary>The project's public key (<c>pk-lf-...</c>). Env: <c>LANGFUSE_PUBLIC_KEY</c>. Without it nothing is sent.</summary>
    public string? PublicKey { get; set; }

    /// <summary>The project's secret key (<c>sk-lf-...</c>). Env: <c>LANGFUSE_SECRET_KEY</c>. Never logged. Without it nothing is sent.</summary>
    public string? SecretKey { get; set; }

    /// <summary>
    /// The Langfuse server, or a Langfuse.Agents relay. Env: <c>LANGFUSE_BASE_URL</c> (aliases <c>LANGFUSE_HOST</c>,
    /// <c>LANGFUSE_BASEURL</c>). Default <see cref="DefaultBaseUrl"/>.
    /// </summary>
    public Uri BaseUrl { get; set; } = new(DefaultBaseUrl);

    /// <summary>Whether tracing is on. Env: <c>LANGFUSE_TRACING_ENABLED</c> (only <c>false</c> turns it off). Default true.</summary>
    public bool TracingEnabled { get; set; } = true;

    /// <summary>The time one HTTP attempt may take. Env: <c>LANGFUSE_TIMEOUT</c> (seconds). Default 5 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Items per batch: a batch is sent as soon as it holds this many. Env: <c>LANGFUSE_FLUSH_AT</c>. Default 512.</summary>
    public int FlushAt { get; set; } = 512;

    /// <summary>The longest an item waits in a partial batch. Env: <c>LANGFUSE_FLUSH_INTERVAL</c> (seconds). Default 5 s.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The share of traces kept, 0 to 1, decided per trace id so a trace is kept or dropped whole and every
    /// process decides alike; an incoming W3C sampled flag wins. Env: <c>LANGFUSE_SAMPLE_RATE</c>. Default 1.
    /// </summary>
    public double SampleRate { get; set; } = 1.0;

    /// <summary>The environment on every observation (lowercase letters, digits, <c>-</c> and <c>_</c>). Env: <c>LANGFUSE_TRACING_ENVIRONMENT</c>.</summary>
    public string? Environment { get; set; }

    /// <summary>
    /// The release on every trace. Env: <c>LANGFUSE_RELEASE</c>, else a CI commit variable
    /// (<c>GITHUB_SHA</c>, <c>CI_COMMIT_SHA</c>, <c>CIRCLE_SHA1</c>, <c>BUILD_SOURCEVERSION</c>, ...).
    /// </summary>
    public string? Release { get; set; }

    /// <summary>Verbose SDK logging. Env: <c>LANGFUSE_DEBUG</c>. Default false.</summary>
    public bool Debug { get; set; }

    /// <summary>How observations are sent. Env: <c>LANGFUSE_INGESTION_PROTOCOL</c> (<c>otlp</c> or <c>legacy</c>). Default <see cref="IngestionProtocol.Otlp"/>.</summary>
    public IngestionProtocol IngestionProtocol { get; set; } = IngestionProtocol.Otlp;

    /// <summary>Items the in-memory queue holds before new ones are dropped (and counted). Env: <c>LANGFUSE_MAX_QUEUE_SIZE</c>. Default 10,000.</summary>
    public int MaxQueueSize { get; set; } = 10_000;

    /// <summary>Estimated bytes the in-memory queue holds before new items are dropped (and counted). Env: <c>LANGFUSE_MAX_QUEUE_BYTES</c>. Default 64 MiB.</summary>
    public long MaxQueueBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>One item's size limit; larger items are shrunk (largest of input, output, metadata replaced by a marker). Env: <c>LANGFUSE_MAX_EVENT_BYTES</c>. Default 1,000,000.</summary>
    public int MaxEventBytes { get; set; } = 1_000_000;

    /// <summary>One request's size limit. Env: <c>LANGFUSE_MAX_REQUEST_BYTES</c>. Default 2,500,000.</summary>
    public int MaxRequestBytes { get; set; } = 2_500_000;

    /// <summary>Retries after the first attempt of a request. Env: <c>LANGFUSE_MAX_RETRIES</c>. Default 5.</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>The first retry's backoff ceiling; it doubles per attempt (full jitter). Env: <c>LANGFUSE_RETRY_BASE_DELAY_MS</c>. Default 250 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between attempts, also the ceiling for a server's <c>Retry-After</c>. Env: <c>LANGFUSE_MAX_RETRY_DELAY</c> (seconds). Default 30 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Consecutive failed attempts that open the circuit breaker. Env: <c>LANGFUSE_CIRCUIT_BREAKER_FAILURES</c>. Default 5.</summary>
    public int CircuitBreakerFailures { get; set; } = 5;

    /// <summary>How long an open circuit stays open before one trial request. Env: <c>LANGFUSE_CIRCUIT_BREAK_DURATION</c> (seconds). Default 30 s.</summary>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most time flushing may take when the tracer is disposed or the process exits. Env: <c>LANGFUSE_SHUTDOWN_TIMEOUT</c> (seconds). Default 5 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The <c>service.name</c> resource attribute. Env: <c>OTEL_SERVICE_NAME</c>. Default: the entry assembly's name.</summary>
    public string? ServiceName { get; set; }

    /// <summary>
    /// Where undeliverable batches wait on disk (created private to the user, mode 0700). Env: <c>LANGFUSE_BUFFER_DIR</c>.
    /// Default: a per-user state directory (<c>$XDG_STATE_HOME</c> or <c>~/.local/state</c>, <c>%LOCALAPPDATA%</c> on
    /// Windows) under <c>langfuse-agents/buffer/</c>, with one sub-directory per Langfuse host and public key. When set,
    /// the same per-host-and-key sub-directory is made inside it, so projects never mix.
    /// </summary>
    public string? BufferDirectory { get; set; }

    /// <summary>Whether undeliverable batches are kept on disk and delivered later. Env: <c>LANGFUSE_BUFFER_ENABLED</c>. Default true.</summary>
    public bool BufferEnabled { get; set; } = true;

    /// <summary>The on-disk buffer's byte cap. Env: <c>LANGFUSE_BUFFER_MAX_BYTES</c>. Default 50 MiB.</summary>
    public long BufferMaxBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>How long a batch may wait on disk before it is dropped (counted as expired). Env: <c>LANGFUSE_BUFFER_RETENTION</c> (seconds). Default 48 h.</summary>
    public TimeSpan BufferRetention { get; set; } = TimeSpan.FromHours(48);

    /// <summary>What happens when the buffer is full. Env: <c>LANGFUSE_BUFFER_FULL_POLICY</c> (<c>drop_oldest</c>, <c>reject_newest</c>). Default drop oldest.</summary>
    public BufferFullPolicy BufferFullPolicy { get; set; } = BufferFullPolicy.DropOldest;

    /// <summary>
    /// Write every batch to disk (fsynced) before sending it, so even a process killed with SIGKILL loses only what
    /// had not reached a batch yet. Costs a disk write per batch. Env: <c>LANGFUSE_BUFFER_WRITE_AHEAD</c>. Default false.
    /// </summary>
    public bool BufferWriteAhead { get; set; }

    /// <summary>
    /// Records structure, timings, tokens and failures but no prompt or output text. When on, the background path drops
    /// every input and output (the trace's too), the trace metadata, score comments and text-score values, and keeps of
    /// an observation's metadata only the keys the agent helpers write (<see cref="AgentMetadataKeys"/>) and entries
    /// whose value is a number or a boolean. Status messages become the failure's <c>type/code</c> (or the exception's
    /// type), and exceptions keep their type and stack trace but lose their message. Names, ids, levels, timings, model,
    /// usage, cost, tags and scores are kept. <see cref="Capture"/> still sees the raw values, which never leave the
    /// process. Env: <c>LANGFUSE_PRIVACY_MODE</c>. Default false.
    /// </summary>
    public bool PrivacyMode { get; set; }

    /// <summary>
    /// A function applied to every input, output and metadata value, status message, exception message and score
    /// comment before it leaves the process, on the background path (never on the caller's thread); null values are
    /// not passed to it. Return the value to send. If it throws, the value is replaced by
    /// <c>&lt;fully masked due to failed mask function&gt;</c> (reported at most once a minute, with a count). A mask
    /// written for strings sees objects whole: wrap it in <see cref="LangfuseMask.EveryString"/> to reach nested text.
    /// </summary>
    public Func<object?, object?>? Mask { get; set; }

    /// <summary>How inputs, outputs and metadata that are not strings are serialized. Default: web defaults (camelCase), cycles ignored.</summary>
    public JsonSerializerOptions? JsonSerializerOptions { get; set; }

    /// <summary>Records every completed (and sampled) observation and score in memory, for tests; works without keys.</summary>
    public LangfuseCapture? Capture { get; set; }

    /// <summary>
    /// Processors every ended observation and score passes through, in order, after sampling and before
    /// <see cref="Capture"/> and export (see <see cref="LangfuseProcessor"/>). Code only; default none.
    /// </summary>
    public IList<LangfuseProcessor> Processors => _processors;

    private List<LangfuseProcessor> _processors = [];

    /// <summary>Creates options from the process's environment variables.</summary>
    /// <returns>The options; problems are reported when a tracer is created from them.</returns>
    public static LangfuseOptions FromEnvironment() => FromEnvironment(static name => System.Environment.GetEnvironmentVariable(name));

    /// <summary>Creates options from a variable lookup, for hosts that keep their environment elsewhere.</summary>
    /// <param name="getVariable">Returns a variable's value or <see langword="null"/>.</param>
    /// <returns>The options.</returns>
    public static LangfuseOptions FromEnvironment(Func<string, string?> getVariable)
    {
        var options = new LangfuseOptions();
        Internal.Configuration.LangfuseSettingsReader.Apply(options, getVariable, out _);
        return options;
    }

    /// <summary>Text settings (environment, configuration) that could not be used as given, reported at start-up.</summary>
    internal List<Internal.Configuration.SettingProblem> ReadingProblems { get; private set; } = [];

    /// <summary>Which text setting set each option, so a problem with the final value can name it.</summary>
    internal Dictionary<string, Internal.Configuration.SettingOrigin> Origins { get; private set; } = [];

    internal LangfuseOptions Clone()
    {
        var clone = (LangfuseOptions)MemberwiseClone();
        clone.ReadingProblems = [.. ReadingProblems];
        clone.Origins = new(Origins);
        clone._processors = [.. _processors];
        return clone;
    }
}
