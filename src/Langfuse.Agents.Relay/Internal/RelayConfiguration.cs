using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.Memory;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Where the relay's settings come from: the <c>Relay</c> configuration section (appsettings.json, <c>Relay__*</c>
/// environment variables, <c>--Relay:*</c> on the command line), with the relay's own <c>LANGFUSE_RELAY_*</c> /
/// <c>LANGFUSE_BUFFER_*</c> variables mapped onto the same keys. Precedence, lowest first: appsettings, environment
/// (both spellings), command line. The upstream's <c>LANGFUSE_*</c> variables keep the SDK's reader and units
/// (<c>LANGFUSE_RETRY_BASE_DELAY_MS</c> is milliseconds, <c>Relay:Upstream:RetryBaseDelay</c> a TimeSpan), so
/// <see cref="RelayOptions.Read"/> applies them as a layer of their own between the same neighbours.
/// </summary>
internal static class RelayConfiguration
{
    /// <summary>The configuration section holding the relay's settings.</summary>
    public const string SectionName = "Relay";

    /// <summary>The sub-section holding the upstream Langfuse's settings, named like the SDK's option properties.</summary>
    public const string UpstreamSection = "Upstream";

    /// <summary>The relay's own variables and the <c>Relay</c> keys they set (the SDK's are mapped through its settings table).</summary>
    public static readonly IReadOnlyList<(string Variable, string Key)> RelayVariables =
    [
        ("LANGFUSE_RELAY_PUBLIC_KEY", nameof(RelayOptions.ClientPublicKey)),
        ("LANGFUSE_RELAY_SECRET_KEY", nameof(RelayOptions.ClientSecretKey)),
        ("LANGFUSE_BUFFER_DIR", nameof(RelayOptions.BufferDirectory)),
        ("LANGFUSE_BUFFER_MAX_BYTES", nameof(RelayOptions.BufferMaxBytes)),
        ("LANGFUSE_RELAY_FSYNC", nameof(RelayOptions.Fsync)),
        ("LANGFUSE_RELAY_BODY_TIMEOUT", nameof(RelayOptions.BodyTimeout)),
        ("LANGFUSE_RELAY_MAX_INFLIGHT_BYTES", nameof(RelayOptions.MaxInFlightBodyBytes)),
        ("LANGFUSE_RELAY_DEAD_LETTER_MAX_BYTES", nameof(RelayOptions.DeadLetterMaxBytes)),
        ("LANGFUSE_RELAY_MAX_PENDING_REQUESTS", nameof(RelayOptions.MaxPendingRequests)),
    ];

    /// <summary>
    /// Adds the <c>LANGFUSE_*</c> variables, as <c>Relay:</c> keys, just below the command line (or on top when there
    /// is none), so they rank with the other environment variables.
    /// </summary>
    public static void AddLangfuseVariables(IConfigurationBuilder configuration, Func<string, string?> environment)
    {
        var data = Map(environment);
        var source = new MemoryConfigurationSource { InitialData = data };
        var commandLine = configuration.Sources.ToList().FindLastIndex(static s => s is CommandLineConfigurationSource);
        if (commandLine < 0)
        {
            configuration.Sources.Add(source);
        }
        else
        {
            configuration.Sources.Insert(commandLine, source);
        }
    }

    /// <summary>
    /// The name a problem should show for a configuration path: the variable when the value in use is the variable's
    /// (so an operator who set <c>LANGFUSE_RELAY_FSYNC</c> reads that name), else the path.
    /// </summary>
    public static string NameOf(string path, string? value, Func<string, string?> environment)
    {
        foreach (var (variable, key) in RelayVariables)
        {
            if (string.Equals(SectionName + ConfigurationPath.KeyDelimiter + key, path, StringComparison.OrdinalIgnoreCase))
            {
                return environment(variable) is { Length: > 0 } set && set.Trim() == value ? variable : path;
            }
        }

        return path;
    }

    private static Dictionary<string, string?> Map(Func<string, string?> environment)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (variable, key) in RelayVariables)
        {
            if (environment(variable) is { Length: > 0 } value)
            {
                data[SectionName + ConfigurationPath.KeyDelimiter + key] = value;
            }
        }

        return data;
    }
}
