using System.Globalization;
using System.Text.RegularExpressions;

namespace Langfuse.Agents.Internal.Configuration;

/// <summary>
/// Checks <see cref="LangfuseOptions"/> once, at start-up, and reports every problem together, including those
/// found while reading text settings. Missing keys are not a problem (tracing is simply off); one key without
/// the other is. Messages are one line, name the option and its environment variable, and never contain keys.
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

    /// <summary>Returns every problem of the options; empty when they can be used.</summary>
    /// <param name="options">The options, as the tracer will use them.</param>
    /// <returns>One line per problem.</returns>
    public static IReadOnlyList<string> Validate(LangfuseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        var problems = new List<string>(options.Problems);

        var hasPublicKey = !string.IsNullOrWhiteSpace(options.PublicKey);
        var hasSecretKey = !string.IsNullOrWhiteSpace(options.SecretKey);
        if (hasPublicKey != hasSecretKey)
        {
            var (set, missing) = hasPublicKey ? (nameof(LangfuseOptions.PublicKey), nameof(LangfuseOptions.SecretKey)) : (nameof(LangfuseOptions.SecretKey), nameof(LangfuseOptions.PublicKey));
            problems.Add($"{Name(set)} is set but {Name(missing)} is not: set both to send traces, or neither to turn tracing off.");
        }

        CheckBaseUrl(options.BaseUrl, problems);

        Check(problems, options.Timeout >= MinTimeout && options.Timeout <= MaxTimeout, nameof(LangfuseOptions.Timeout),
            $"must be from {SettingText.Duration(MinTimeout)} to {SettingText.Duration(MaxTimeout)}", SettingText.Duration(options.Timeout));
        Check(problems, options.FlushAt is >= 1 and <= MaxFlushAt, nameof(LangfuseOptions.FlushAt),
            $"must be from 1 to {MaxFlushAt.ToString(CultureInfo.InvariantCulture)}", Number(options.FlushAt));
        Check(problems, options.FlushInterval > TimeSpan.Zero && options.FlushInterval <= MaxDuration, nameof(LangfuseOptions.FlushInterval),
            $"must be greater than 0 and at most {SettingText.Duration(MaxDuration)}", SettingText.Duration(options.FlushInterval));
        Check(problems, options.SampleRate is >= 0 and <= 1, nameof(LangfuseOptions.SampleRate),
            "must be a number from 0 to 1", Number(options.SampleRate));
        Check(problems, options.MaxQueueSize >= 1, nameof(LangfuseOptions.MaxQueueSize),
            "must be at least 1", Number(options.MaxQueueSize));
        Check(problems, options.MaxQueueBytes >= MinBytes, nameof(LangfuseOptions.MaxQueueBytes),
            $"must be at least {Number(MinBytes)}", Number(options.MaxQueueBytes));

        var eventBytesValid = Check(problems, options.MaxEventBytes >= MinBytes, nameof(LangfuseOptions.MaxEventBytes),
            $"must be at least {Number(MinBytes)}", Number(options.MaxEventBytes));

        // Compared with MaxEventBytes only when that is valid, so one bad setting gives one problem.
        Check(problems, !eventBytesValid || options.MaxRequestBytes >= options.MaxEventBytes, nameof(LangfuseOptions.MaxRequestBytes),
            $"must be at least {Name(nameof(LangfuseOptions.MaxEventBytes))} ({Number(options.MaxEventBytes)}) so every item fits in a request", Number(options.MaxRequestBytes));
        Check(problems, options.MaxRetries is >= 0 and <= MaxRetries, nameof(LangfuseOptions.MaxRetries),
            $"must be from 0 to {Number(MaxRetries)}", Number(options.MaxRetries));

        var maxRetryDelayValid = Check(problems, options.MaxRetryDelay >= MinMaxRetryDelay && options.MaxRetryDelay <= MaxDuration, nameof(LangfuseOptions.MaxRetryDelay),
            $"must be from {SettingText.Duration(MinMaxRetryDelay)} to {SettingText.Duration(MaxDuration)}", SettingText.Duration(options.MaxRetryDelay));
        Check(problems, options.RetryBaseDelay > TimeSpan.Zero && (!maxRetryDelayValid || options.RetryBaseDelay <= options.MaxRetryDelay), nameof(LangfuseOptions.RetryBaseDelay),
            $"must be greater than 0 and at most {Name(nameof(LangfuseOptions.MaxRetryDelay))} ({SettingText.Duration(options.MaxRetryDelay)})", SettingText.Duration(options.RetryBaseDelay));

        Check(problems, options.CircuitBreakerFailures >= 1, nameof(LangfuseOptions.CircuitBreakerFailures),
            "must be at least 1", Number(options.CircuitBreakerFailures));
        Check(problems, options.CircuitBreakDuration >= MinCircuitBreakDuration && options.CircuitBreakDuration <= MaxDuration, nameof(LangfuseOptions.CircuitBreakDuration),
            $"must be from {SettingText.Duration(MinCircuitBreakDuration)} to {SettingText.Duration(MaxDuration)}", SettingText.Duration(options.CircuitBreakDuration));
        Check(problems, options.ShutdownTimeout >= TimeSpan.Zero && options.ShutdownTimeout <= MaxDuration, nameof(LangfuseOptions.ShutdownTimeout),
            $"must be from 0 to {SettingText.Duration(MaxDuration)}", SettingText.Duration(options.ShutdownTimeout));

        Check(problems, options.BufferMaxBytes >= MinBufferBytes, nameof(LangfuseOptions.BufferMaxBytes),
            $"must be at least {Number(MinBufferBytes)}", Number(options.BufferMaxBytes));
        Check(problems, options.BufferRetention > TimeSpan.Zero && options.BufferRetention <= MaxBufferRetention, nameof(LangfuseOptions.BufferRetention),
            $"must be greater than 0 and at most {SettingText.Duration(MaxBufferRetention)}", SettingText.Duration(options.BufferRetention));

        if (options.Environment is { } environment)
        {
            Check(problems,
                environment.Length <= MaxEnvironmentLength && EnvironmentPattern().IsMatch(environment) &&
                !environment.StartsWith("langfuse", StringComparison.Ordinal),
                nameof(LangfuseOptions.Environment),
                $"must be 1 to {Number(MaxEnvironmentLength)} lowercase letters, digits, '-' or '_', not starting with \"langfuse\"",
                SettingText.Show(environment));
        }

        return problems;
    }

    private static void CheckBaseUrl(Uri? url, List<string> problems)
    {
        const string key = nameof(LangfuseOptions.BaseUrl);
        if (url is null)
        {
            problems.Add($"{Name(key)} must be set (default {LangfuseOptions.DefaultBaseUrl}).");
        }
        else if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) || url.Host.Length == 0)
        {
            problems.Add($"{Name(key)} must be an absolute http or https URL; it is {SettingText.Show(url.OriginalString)}.");
        }
        else if (url.UserInfo.Length > 0)
        {
            problems.Add($"{Name(key)} must not contain user credentials (give the keys in {Name(nameof(LangfuseOptions.PublicKey))} and {Name(nameof(LangfuseOptions.SecretKey))}); it is {SettingText.Show(url.OriginalString)}.");
        }
    }

    private static bool Check(List<string> problems, bool valid, string key, string rule, string actual)
    {
        if (!valid)
        {
            problems.Add($"{Name(key)} {rule}; it is {actual}.");
        }

        return valid;
    }

    private static string Name(string key) => $"{key} ({LangfuseSettings.VariableOf(key)})";

    private static string Number<T>(T value)
        where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z0-9_-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentPattern();
}
