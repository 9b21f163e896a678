using System.Globalization;
using System.Text.RegularExpressions;

namespace Langfuse.Agents.Internal.Configuration;

/// <summary>
/// Checks <see cref="LangfuseOptions"/> once, at start-up, whatever set them (environment, configuration, code). A value
/// that cannot be used is replaced by its default (or normalised, like an environment's case), and each is reported
/// once, naming the setting (the variable or configuration key it came from, else the option), the value and what is
/// used instead. Only what leaves tracing unable to work (one key without the other, an unusable base URL) turns it
/// off. Messages are one line each and never contain keys.
/// </summary>
internal static partial class LangfuseOptionsValidator
{
    /// <summary>The longest <see cref="LangfuseOptions.Timeout"/>: an attempt that takes longer is surely lost.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Polly's <c>TimeoutStrategyOptions.Timeout</c> lower bound (8.9.1).</summary>
    public static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(10);

    /// <summary>Polly's upper bound for every delay and duration (8.9.1), also well inside what timers accept.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>The shortest <see cref="LangfuseOptions.MaxRetryDelay"/>.</summary>
    public static readonly TimeSpan MinMaxRetryDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The smallest on-disk buffer: room for a few requests.</summary>
    public const long MinBufferBytes = 1024 * 1024;

    /// <summary>The longest retention: a year.</summary>
    public static readonly TimeSpan MaxBufferRetention = TimeSpan.FromDays(365);

    /// <summary>Polly's <c>CircuitBreakerStrategyOptions.BreakDuration</c> lower bound (8.9.1).</summary>
    public static readonly TimeSpan MinCircuitBreakDuration = TimeSpan.FromMilliseconds(500);

    /// <summary>The largest <see cref="LangfuseOptions.FlushAt"/>.</summary>
    public const int MaxFlushAt = 100_000;

    /// <summary>The smallest <see cref="LangfuseOptions.MaxQueueBytes"/> and <see cref="LangfuseOptions.MaxEventBytes"/>.</summary>
    public const int MinBytes = 1024;

    /// <summary>The largest <see cref="LangfuseOptions.MaxRetries"/>.</summary>
    public const int MaxRetries = 100;

    /// <summary>The longest <see cref="LangfuseOptions.Environment"/>, as Langfuse accepts.</summary>
    public const int MaxEnvironmentLength = 40;

    private static readonly LangfuseOptions Defaults = new();

    /// <summary>
    /// Replaces every value that cannot be used, in <paramref name="options"/> itself, and says what was replaced and
    /// whether tracing can work.
    /// </summary>
    /// <param name="options">The options, as the tracer will use them (a copy of the caller's).</param>
    /// <returns>The lines to report.</returns>
    public static SettingsReport Normalize(LangfuseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var findings = Check(options);
        var cannotWork = new List<string>();
        var replaced = new List<string>();

        // Reading problems are rendered after every fix, so "using ... instead" is what is really used.
        foreach (var problem in options.ReadingProblems)
        {
            var setting = LangfuseSettings.Find(problem.Key);
            if (problem.Fatal)
            {
                cannotWork.Add(problem.Subject);
            }
            else if (setting.IsSecret)
            {
                if (!string.IsNullOrWhiteSpace((string?)setting.Get(options)))
                {
                    replaced.Add($"{problem.Subject}; the key set elsewhere is used.");
                }
            }
            else
            {
                replaced.Add($"{problem.Subject}; using {SettingText.Value(problem.Key, setting.Get(options))} instead.");
            }
        }

        foreach (var finding in findings)
        {
            if (finding.Replacement is { } replacement)
            {
                replaced.Add($"{finding.Subject} {finding.Rule}; using {replacement} instead.");
            }
            else
            {
                cannotWork.Add($"{finding.Subject} {finding.Rule}");
            }
        }

        var hasPublicKey = !string.IsNullOrWhiteSpace(options.PublicKey);
        var hasSecretKey = !string.IsNullOrWhiteSpace(options.SecretKey);
        var keyProblems = options.ReadingProblems.Where(p => LangfuseSettings.Find(p.Key).IsSecret && string.IsNullOrWhiteSpace((string?)LangfuseSettings.Find(p.Key).Get(options))).ToList();
        if (keyProblems.Count > 0 && !(hasPublicKey && hasSecretKey))
        {
            cannotWork.AddRange(keyProblems.Select(static p => p.Subject));
        }
        else if (hasPublicKey != hasSecretKey)
        {
            var (set, missing) = hasPublicKey ? (nameof(LangfuseOptions.PublicKey), nameof(LangfuseOptions.SecretKey)) : (nameof(LangfuseOptions.SecretKey), nameof(LangfuseOptions.PublicKey));
            cannotWork.Add($"{LangfuseSettings.VariableOf(set)} is set but {LangfuseSettings.VariableOf(missing)} is not: set both to send traces, or neither to turn tracing off");
        }

        return new SettingsReport(replaced, cannotWork.Count > 0 ? string.Join("; ", cannotWork) : null);
    }

    /// <summary>
    /// The strict reading, for a process that refuses to start on any problem (the relay): every value that would be
    /// replaced or that cannot work, one line each. Reading problems are not included (the reader returns them).
    /// </summary>
    /// <param name="options">The options; not changed.</param>
    /// <returns>One line per problem; empty when they can be used as they are.</returns>
    public static IReadOnlyList<string> Validate(LangfuseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return [.. Check(options.Clone()).Select(static f => $"{f.Subject} {f.Rule}.")];
    }

    /// <summary>Finds (and fixes, in <paramref name="options"/>) every value that cannot be used.</summary>
    private static List<Finding> Check(LangfuseOptions options)
    {
        var found = new List<Finding>();
        CheckBaseUrl(options, found);

        Rule(options, found, nameof(LangfuseOptions.Timeout), static o => o.Timeout, static (o, v) => o.Timeout = v,
            static v => v >= MinTimeout && v <= MaxTimeout, $"must be from {SettingText.Duration(MinTimeout)} to {SettingText.Duration(MaxTimeout)}", Defaults.Timeout);
        Rule(options, found, nameof(LangfuseOptions.FlushAt), static o => o.FlushAt, static (o, v) => o.FlushAt = v,
            static v => v is >= 1 and <= MaxFlushAt, $"must be from 1 to {Number(MaxFlushAt)}", Defaults.FlushAt);
        Rule(options, found, nameof(LangfuseOptions.FlushInterval), static o => o.FlushInterval, static (o, v) => o.FlushInterval = v,
            static v => v > TimeSpan.Zero && v <= MaxDuration, $"must be greater than 0 and at most {SettingText.Duration(MaxDuration)}", Defaults.FlushInterval);
        Rule(options, found, nameof(LangfuseOptions.SampleRate), static o => o.SampleRate, static (o, v) => o.SampleRate = v,
            static v => v is >= 0 and <= 1, "must be a number from 0 to 1", Defaults.SampleRate);
        Rule(options, found, nameof(LangfuseOptions.MaxQueueSize), static o => o.MaxQueueSize, static (o, v) => o.MaxQueueSize = v,
            static v => v >= 1, "must be at least 1", Defaults.MaxQueueSize);
        Rule(options, found, nameof(LangfuseOptions.MaxQueueBytes), static o => o.MaxQueueBytes, static (o, v) => o.MaxQueueBytes = v,
            static v => v >= MinBytes, $"must be at least {Number(MinBytes)}", Defaults.MaxQueueBytes);
        Rule(options, found, nameof(LangfuseOptions.MaxEventBytes), static o => o.MaxEventBytes, static (o, v) => o.MaxEventBytes = v,
            static v => v >= MinBytes, $"must be at least {Number(MinBytes)}", Defaults.MaxEventBytes);
        Rule(options, found, nameof(LangfuseOptions.MaxRequestBytes), static o => o.MaxRequestBytes, static (o, v) => o.MaxRequestBytes = v,
            static v => v >= MinBytes, $"must be at least {Number(MinBytes)}", Defaults.MaxRequestBytes);

        // Compared once both are valid on their own, so one bad setting gives one line. Every item must fit in a request.
        var maxRequestBytes = options.MaxRequestBytes;
        Rule(options, found, nameof(LangfuseOptions.MaxEventBytes), static o => o.MaxEventBytes, static (o, v) => o.MaxEventBytes = v,
            v => v <= maxRequestBytes, $"must be at most {Name(nameof(LangfuseOptions.MaxRequestBytes))} ({Number(maxRequestBytes)}) so every item fits in a request", maxRequestBytes);

        Rule(options, found, nameof(LangfuseOptions.MaxRetries), static o => o.MaxRetries, static (o, v) => o.MaxRetries = v,
            static v => v is >= 0 and <= MaxRetries, $"must be from 0 to {Number(MaxRetries)}", Defaults.MaxRetries);
        Rule(options, found, nameof(LangfuseOptions.MaxRetryDelay), static o => o.MaxRetryDelay, static (o, v) => o.MaxRetryDelay = v,
            static v => v >= MinMaxRetryDelay && v <= MaxDuration, $"must be from {SettingText.Duration(MinMaxRetryDelay)} to {SettingText.Duration(MaxDuration)}", Defaults.MaxRetryDelay);
        Rule(options, found, nameof(LangfuseOptions.RetryBaseDelay), static o => o.RetryBaseDelay, static (o, v) => o.RetryBaseDelay = v,
            static v => v > TimeSpan.Zero && v <= MaxDuration, $"must be greater than 0 and at most {SettingText.Duration(MaxDuration)}", Defaults.RetryBaseDelay);
        var maxRetryDelay = options.MaxRetryDelay;
        Rule(options, found, nameof(LangfuseOptions.RetryBaseDelay), static o => o.RetryBaseDelay, static (o, v) => o.RetryBaseDelay = v,
            v => v <= maxRetryDelay, $"must be at most {Name(nameof(LangfuseOptions.MaxRetryDelay))} ({SettingText.Duration(maxRetryDelay)})", maxRetryDelay);

        Rule(options, found, nameof(LangfuseOptions.CircuitBreakerFailures), static o => o.CircuitBreakerFailures, static (o, v) => o.CircuitBreakerFailures = v,
            static v => v >= 1, "must be at least 1", Defaults.CircuitBreakerFailures);
        Rule(options, found, nameof(LangfuseOptions.CircuitBreakDuration), static o => o.CircuitBreakDuration, static (o, v) => o.CircuitBreakDuration = v,
            static v => v >= MinCircuitBreakDuration && v <= MaxDuration, $"must be from {SettingText.Duration(MinCircuitBreakDuration)} to {SettingText.Duration(MaxDuration)}", Defaults.CircuitBreakDuration);
        Rule(options, found, nameof(LangfuseOptions.ShutdownTimeout), static o => o.ShutdownTimeout, static (o, v) => o.ShutdownTimeout = v,
            static v => v >= TimeSpan.Zero && v <= MaxDuration, $"must be from 0 to {SettingText.Duration(MaxDuration)}", Defaults.ShutdownTimeout);
        Rule(options, found, nameof(LangfuseOptions.BufferMaxBytes), static o => o.BufferMaxBytes, static (o, v) => o.BufferMaxBytes = v,
            static v => v >= MinBufferBytes, $"must be at least {Number(MinBufferBytes)}", Defaults.BufferMaxBytes);
        Rule(options, found, nameof(LangfuseOptions.BufferRetention), static o => o.BufferRetention, static (o, v) => o.BufferRetention = v,
            static v => v > TimeSpan.Zero && v <= MaxBufferRetention, $"must be greater than 0 and at most {SettingText.Duration(MaxBufferRetention)}", Defaults.BufferRetention);
        Rule(options, found, nameof(LangfuseOptions.IngestionProtocol), static o => o.IngestionProtocol, static (o, v) => o.IngestionProtocol = v,
            static v => Enum.IsDefined(v), "must be otlp or legacy", Defaults.IngestionProtocol);
        Rule(options, found, nameof(LangfuseOptions.BufferFullPolicy), static o => o.BufferFullPolicy, static (o, v) => o.BufferFullPolicy = v,
            static v => Enum.IsDefined(v), "must be drop_oldest or reject_newest", Defaults.BufferFullPolicy);

        if (options.Environment is { } environment && !IsValidEnvironment(environment))
        {
            // Langfuse takes lowercase only: "Production" means "production". Anything else cannot be fixed by guessing.
            var lower = environment.Trim().ToLowerInvariant();
            var fixedValue = IsValidEnvironment(lower) ? lower : null;
            found.Add(new Finding(
                Subject(options, nameof(LangfuseOptions.Environment), environment),
                fixedValue is null
                    ? $"must be 1 to {Number(MaxEnvironmentLength)} lowercase letters, digits, '-' or '_', not starting with \"langfuse\""
                    : "must be lowercase",
                SettingText.Value(nameof(LangfuseOptions.Environment), fixedValue)));
            options.Environment = fixedValue;
        }

        return found;
    }

    private static void CheckBaseUrl(LangfuseOptions options, List<Finding> found)
    {
        const string key = nameof(LangfuseOptions.BaseUrl);
        var url = options.BaseUrl;
        if (url is null)
        {
            options.BaseUrl = Defaults.BaseUrl;
            found.Add(new Finding($"{key} (set in code)", "is null", SettingText.Value(key, options.BaseUrl)));
        }
        else if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) || url.Host.Length == 0)
        {
            // Never fall back to Langfuse Cloud: the data would go somewhere the user did not choose.
            found.Add(new Finding(Subject(options, key, url), "must be an absolute http or https URL", Replacement: null));
        }
        else if (url.UserInfo.Length > 0)
        {
            options.BaseUrl = LangfuseSettings.WithoutUserInfo(url);
            found.Add(new Finding(
                Subject(options, key, url),
                "contains user credentials, which are not used (the keys authenticate)",
                SettingText.Value(key, options.BaseUrl)));
        }
    }

    private static void Rule<T>(
        LangfuseOptions options,
        List<Finding> found,
        string key,
        Func<LangfuseOptions, T> get,
        Action<LangfuseOptions, T> set,
        Func<T, bool> valid,
        string rule,
        T replacement)
    {
        var value = get(options);
        if (valid(value))
        {
            return;
        }

        found.Add(new Finding(Subject(options, key, value), rule, SettingText.Value(key, replacement)));
        set(options, replacement);
    }

    /// <summary>
    /// How a bad value is named: the variable or configuration key and the text it came from, or, when code set it,
    /// the option and the value. Keys are never shown.
    /// </summary>
    private static string Subject(LangfuseOptions options, string key, object? value)
    {
        if (options.Origins.TryGetValue(key, out var origin) && Equals(origin.Value, value))
        {
            return $"{origin.Name}={SettingText.Show(origin.Text)}";
        }

        return $"{key}={SettingText.Value(key, value)} (set in code)";
    }

    private static bool IsValidEnvironment(string environment) =>
        environment.Length <= MaxEnvironmentLength && EnvironmentPattern().IsMatch(environment) &&
        !environment.StartsWith("langfuse", StringComparison.Ordinal);

    private static string Name(string key) => $"{key} ({LangfuseSettings.VariableOf(key)})";

    private static string Number<T>(T value)
        where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z0-9_-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentPattern();

    /// <summary>One value that cannot be used: how to name it, the rule, and what is used instead (null: tracing cannot work).</summary>
    private sealed record Finding(string Subject, string Rule, string? Replacement);
}
