using System.Globalization;

namespace Langfuse.Agents.Internal.Configuration;

/// <summary>
/// The table of text settings shared by environment variables and the <c>Langfuse</c> configuration section:
/// each setting's names and its parser, written once.
/// </summary>
internal static class LangfuseSettings
{
    /// <summary>
    /// CI and hosting variables holding the deployed commit, read in this order when <c>LANGFUSE_RELEASE</c> is unset.
    /// The first ten are the official Python SDK's list, in its order; the last two are common hosts it does not read.
    /// </summary>
    public static readonly IReadOnlyList<string> ReleaseFallbackVariables =
    [
        "RENDER_GIT_COMMIT",
        "CI_COMMIT_SHA",
        "CIRCLE_SHA1",
        "SOURCE_VERSION",
        "TRAVIS_COMMIT",
        "GIT_COMMIT",
        "GITHUB_SHA",
        "BITBUCKET_COMMIT",
        "BUILD_SOURCEVERSION",
        "DRONE_COMMIT_SHA",
        "HEROKU_SLUG_COMMIT",
        "VERCEL_GIT_COMMIT_SHA",
    ];

    /// <summary>Every text setting, in the order problems are reported.</summary>
    public static readonly IReadOnlyList<LangfuseSetting> All =
    [
        new(nameof(LangfuseOptions.PublicKey), "LANGFUSE_PUBLIC_KEY", Key(static (o, v) => o.PublicKey = v), static o => o.PublicKey, isSecret: true),
        new(nameof(LangfuseOptions.SecretKey), "LANGFUSE_SECRET_KEY", Key(static (o, v) => o.SecretKey = v), static o => o.SecretKey, isSecret: true),
        new(nameof(LangfuseOptions.BaseUrl), "LANGFUSE_BASE_URL", ParseBaseUrl, static o => o.BaseUrl, aliases: ["LANGFUSE_HOST", "LANGFUSE_BASEURL"], requiredForTracing: true),
        new(nameof(LangfuseOptions.TracingEnabled), "LANGFUSE_TRACING_ENABLED", ParseTracingEnabled, static o => o.TracingEnabled),
        new(nameof(LangfuseOptions.Timeout), "LANGFUSE_TIMEOUT", Duration(static (o, v) => o.Timeout = v, DurationUnit.Seconds, allowZero: false), static o => o.Timeout),
        new(nameof(LangfuseOptions.FlushAt), "LANGFUSE_FLUSH_AT", Int32(static (o, v) => o.FlushAt = v), static o => o.FlushAt),
        new(nameof(LangfuseOptions.FlushInterval), "LANGFUSE_FLUSH_INTERVAL", Duration(static (o, v) => o.FlushInterval = v, DurationUnit.Seconds, allowZero: false), static o => o.FlushInterval),
        new(nameof(LangfuseOptions.SampleRate), "LANGFUSE_SAMPLE_RATE", ParseSampleRate, static o => o.SampleRate),
        new(nameof(LangfuseOptions.Environment), "LANGFUSE_TRACING_ENVIRONMENT", Text(static (o, v) => o.Environment = v), static o => o.Environment),
        new(nameof(LangfuseOptions.Release), "LANGFUSE_RELEASE", Text(static (o, v) => o.Release = v), static o => o.Release, aliases: ReleaseFallbackVariables),
        new(nameof(LangfuseOptions.Debug), "LANGFUSE_DEBUG", Boolean(static (o, v) => o.Debug = v), static o => o.Debug),
        new(nameof(LangfuseOptions.IngestionProtocol), "LANGFUSE_INGESTION_PROTOCOL", ParseIngestionProtocol, static o => o.IngestionProtocol),
        new(nameof(LangfuseOptions.MaxQueueSize), "LANGFUSE_MAX_QUEUE_SIZE", Int32(static (o, v) => o.MaxQueueSize = v), static o => o.MaxQueueSize),
        new(nameof(LangfuseOptions.MaxQueueBytes), "LANGFUSE_MAX_QUEUE_BYTES", Int64(static (o, v) => o.MaxQueueBytes = v), static o => o.MaxQueueBytes),
        new(nameof(LangfuseOptions.MaxEventBytes), "LANGFUSE_MAX_EVENT_BYTES", Int32(static (o, v) => o.MaxEventBytes = v), static o => o.MaxEventBytes),
        new(nameof(LangfuseOptions.MaxRequestBytes), "LANGFUSE_MAX_REQUEST_BYTES", Int32(static (o, v) => o.MaxRequestBytes = v), static o => o.MaxRequestBytes),
        new(nameof(LangfuseOptions.MaxRetries), "LANGFUSE_MAX_RETRIES", Int32(static (o, v) => o.MaxRetries = v), static o => o.MaxRetries),
        new(nameof(LangfuseOptions.RetryBaseDelay), "LANGFUSE_RETRY_BASE_DELAY_MS", Duration(static (o, v) => o.RetryBaseDelay = v, DurationUnit.Milliseconds, allowZero: false), static o => o.RetryBaseDelay),
        new(nameof(LangfuseOptions.MaxRetryDelay), "LANGFUSE_MAX_RETRY_DELAY", Duration(static (o, v) => o.MaxRetryDelay = v, DurationUnit.Seconds, allowZero: false), static o => o.MaxRetryDelay),
        new(nameof(LangfuseOptions.CircuitBreakerFailures), "LANGFUSE_CIRCUIT_BREAKER_FAILURES", Int32(static (o, v) => o.CircuitBreakerFailures = v), static o => o.CircuitBreakerFailures),
        new(nameof(LangfuseOptions.CircuitBreakDuration), "LANGFUSE_CIRCUIT_BREAK_DURATION", Duration(static (o, v) => o.CircuitBreakDuration = v, DurationUnit.Seconds, allowZero: false), static o => o.CircuitBreakDuration),
        new(nameof(LangfuseOptions.ShutdownTimeout), "LANGFUSE_SHUTDOWN_TIMEOUT", Duration(static (o, v) => o.ShutdownTimeout = v, DurationUnit.Seconds, allowZero: true), static o => o.ShutdownTimeout),
        new(nameof(LangfuseOptions.ServiceName), "OTEL_SERVICE_NAME", Text(static (o, v) => o.ServiceName = v), static o => o.ServiceName),
        new(nameof(LangfuseOptions.BufferDirectory), "LANGFUSE_BUFFER_DIR", Text(static (o, v) => o.BufferDirectory = v), static o => o.BufferDirectory),
        new(nameof(LangfuseOptions.BufferEnabled), "LANGFUSE_BUFFER_ENABLED", Boolean(static (o, v) => o.BufferEnabled = v), static o => o.BufferEnabled),
        new(nameof(LangfuseOptions.BufferMaxBytes), "LANGFUSE_BUFFER_MAX_BYTES", Int64(static (o, v) => o.BufferMaxBytes = v), static o => o.BufferMaxBytes),
        new(nameof(LangfuseOptions.BufferRetention), "LANGFUSE_BUFFER_RETENTION", Duration(static (o, v) => o.BufferRetention = v, DurationUnit.Seconds, allowZero: false), static o => o.BufferRetention),
        new(nameof(LangfuseOptions.BufferFullPolicy), "LANGFUSE_BUFFER_FULL_POLICY", ParseBufferFullPolicy, static o => o.BufferFullPolicy),
        new(nameof(LangfuseOptions.BufferWriteAhead), "LANGFUSE_BUFFER_WRITE_AHEAD", Boolean(static (o, v) => o.BufferWriteAhead = v), static o => o.BufferWriteAhead),
        new(nameof(LangfuseOptions.PrivacyMode), "LANGFUSE_PRIVACY_MODE", Boolean(static (o, v) => o.PrivacyMode = v), static o => o.PrivacyMode),
    ];

    private enum DurationUnit
    {
        Seconds,
        Milliseconds,
    }

    /// <summary>The environment variable (first name) of an option, for messages.</summary>
    public static string VariableOf(string key) => Find(key).Variable;

    /// <summary>The row of an option.</summary>
    public static LangfuseSetting Find(string key)
    {
        foreach (var setting in All)
        {
            if (setting.Key == key)
            {
                return setting;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(key), key, "Not a Langfuse setting.");
    }

    // Keys are secrets: no reason may depend on, or repeat, the value.
    private static SettingParser Key(Action<LangfuseOptions, string> set) => (options, value, _) =>
    {
        if (value.Length == 0)
        {
            return SettingOutcome.Fail("is set but empty after trimming");
        }

        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return SettingOutcome.Fail("contains whitespace or control characters");
            }
        }

        set(options, value);
        return SettingOutcome.Ok;
    };

    private static SettingParser Text(Action<LangfuseOptions, string> set) => (options, value, _) =>
    {
        if (value.Length == 0)
        {
            return SettingOutcome.Fail("is blank");
        }

        set(options, value);
        return SettingOutcome.Ok;
    };

    // Ranges are the validator's, so code, configuration and the environment are held to the same bounds.
    private static SettingParser Int32(Action<LangfuseOptions, int> set) => (options, value, _) =>
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
        {
            return SettingOutcome.Fail("is not a whole number");
        }

        set(options, number);
        return SettingOutcome.Ok;
    };

    private static SettingParser Int64(Action<LangfuseOptions, long> set) => (options, value, _) =>
    {
        if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
        {
            return SettingOutcome.Fail("is not a whole number");
        }

        set(options, number);
        return SettingOutcome.Ok;
    };

    private static SettingParser Duration(Action<LangfuseOptions, TimeSpan> set, DurationUnit environmentUnit, bool allowZero) => (options, value, source) =>
    {
        var bound = allowZero ? "0 or more" : "greater than 0";
        var unit = source == SettingSource.EnvironmentVariable ? environmentUnit : DurationUnit.Seconds;
        var duration = TryParseNumber(value, unit);

        // "5" is five days to TimeSpan.Parse, so a number always means the unit; only configuration also takes TimeSpan text.
        if (duration is null && source == SettingSource.Configuration &&
            TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var parsed))
        {
            duration = parsed;
        }

        if (duration is not { } d || d < TimeSpan.Zero || (d == TimeSpan.Zero && !allowZero))
        {
            return SettingOutcome.Fail(source == SettingSource.EnvironmentVariable
                ? $"is not a number of {(environmentUnit == DurationUnit.Seconds ? "seconds" : "milliseconds")} {bound}"
                : $"is neither a TimeSpan (such as 00:00:05) nor a number of seconds {bound}");
        }

        set(options, d);
        return SettingOutcome.Ok;
    };

    private static TimeSpan? TryParseNumber(string value, DurationUnit unit)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
        {
            return null;
        }

        var milliseconds = unit == DurationUnit.Seconds ? number * 1000 : number;
        return Math.Abs(milliseconds) < TimeSpan.MaxValue.TotalMilliseconds / 2 ? TimeSpan.FromMilliseconds(milliseconds) : null;
    }

    private static SettingOutcome ParseSampleRate(LangfuseOptions options, string value, SettingSource source)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) || !double.IsFinite(rate))
        {
            return SettingOutcome.Fail("is not a number (with a '.' as decimal separator)");
        }

        options.SampleRate = rate; // the range is the validator's
        return SettingOutcome.Ok;
    }

    // As in the official SDKs, only "false" turns tracing off, and nothing else is an error.
    private static SettingOutcome ParseTracingEnabled(LangfuseOptions options, string value, SettingSource source)
    {
        options.TracingEnabled = !value.Equals("false", StringComparison.OrdinalIgnoreCase);
        return SettingOutcome.Ok;
    }

    private static SettingParser Boolean(Action<LangfuseOptions, bool> set) => (options, value, _) =>
    {
        if (value is "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("yes", StringComparison.OrdinalIgnoreCase))
        {
            set(options, true);
            return SettingOutcome.Ok;
        }

        if (value is "0" || value.Equals("false", StringComparison.OrdinalIgnoreCase) || value.Equals("no", StringComparison.OrdinalIgnoreCase))
        {
            set(options, false);
            return SettingOutcome.Ok;
        }

        return SettingOutcome.Fail("is not one of true, false, 1, 0, yes, no");
    };

    private static SettingOutcome ParseBufferFullPolicy(LangfuseOptions options, string value, SettingSource source)
    {
        var normalized = value.Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal);
        if (Enum.TryParse<BufferFullPolicy>(normalized, ignoreCase: true, out var policy) && Enum.IsDefined(policy) && !normalized.All(char.IsDigit))
        {
            options.BufferFullPolicy = policy;
            return SettingOutcome.Ok;
        }

        return SettingOutcome.Fail("is not drop_oldest or reject_newest");
    }

    private static SettingOutcome ParseIngestionProtocol(LangfuseOptions options, string value, SettingSource source)
    {
        if (value.Equals("otlp", StringComparison.OrdinalIgnoreCase))
        {
            options.IngestionProtocol = IngestionProtocol.Otlp;
            return SettingOutcome.Ok;
        }

        if (value.Equals("legacy", StringComparison.OrdinalIgnoreCase))
        {
            options.IngestionProtocol = IngestionProtocol.Legacy;
            return SettingOutcome.Ok;
        }

        return SettingOutcome.Fail("is not otlp or legacy");
    }

    private static SettingOutcome ParseBaseUrl(LangfuseOptions options, string value, SettingSource source)
    {
        if (!TryParseHttpUrl(value, out var url))
        {
            return SettingOutcome.Fail("is not an absolute http or https URL");
        }

        if (url.UserInfo.Length > 0)
        {
            // Keep the server but never the credentials: they would only ever leak (the keys authenticate).
            options.BaseUrl = WithoutUserInfo(url);
            return SettingOutcome.Normalised("contains user credentials, which are not used (the keys in LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY authenticate)");
        }

        options.BaseUrl = url;
        return SettingOutcome.Ok;
    }

    /// <summary>Parses an absolute http(s) URL with a host, its path ending in <c>/</c> so relative endpoints append to it.</summary>
    public static bool TryParseHttpUrl(string value, out Uri url)
    {
        url = null!;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var parsed) ||
            (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps) ||
            parsed.Host.Length == 0)
        {
            return false;
        }

        if (!parsed.AbsolutePath.EndsWith('/'))
        {
            parsed = new UriBuilder(parsed) { Path = parsed.AbsolutePath + "/" }.Uri;
        }

        url = parsed;
        return true;
    }

    /// <summary>The URL without user name and password.</summary>
    public static Uri WithoutUserInfo(Uri url) => new UriBuilder(url) { UserName = string.Empty, Password = string.Empty }.Uri;
}
