using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Reads the relay's own keys of the <c>Relay</c> section. A value that cannot be used leaves the default and adds a
/// problem naming where it came from (the <c>LANGFUSE_RELAY_*</c> variable, or the configuration key).
/// </summary>
internal sealed class SectionReader(IConfigurationSection section, Func<string, string?> environment, List<string> problems)
{
    public string? Text(string key) => section[key] is { } text && !string.IsNullOrWhiteSpace(text) ? text.Trim() : null;

    public long Number(string key, long fallback, long min, long max)
    {
        if (Text(key) is not { } text)
        {
            return fallback;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{Name(key, text)}={text} is not a whole number from {min} to {max}."));
            return fallback;
        }

        return value;
    }

    public bool Boolean(string key, bool fallback)
    {
        if (Text(key) is not { } text)
        {
            return fallback;
        }

        if (!bool.TryParse(text, out var value))
        {
            problems.Add($"{Name(key, text)}={text} is not true or false.");
            return fallback;
        }

        return value;
    }

    private string Name(string key, string value) => RelayConfiguration.NameOf(section.Path + ConfigurationPath.KeyDelimiter + key, value, environment);
}
