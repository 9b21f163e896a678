using Microsoft.Extensions.Configuration;

namespace Langfuse.Agents.Internal.Configuration;

/// <summary>
/// Applies text settings (environment variables or a configuration section) to <see cref="LangfuseOptions"/>.
/// Unset or empty settings leave the current value; a value that cannot be used leaves it too and adds a problem
/// that names the setting, shows the value unless it is a key, and never shows URL credentials. Problems and the origin
/// of every value taken are kept on the options, so start-up can say what is used instead and name where a value came from.
/// </summary>
internal static class LangfuseSettingsReader
{
    /// <summary>Applies the environment variables of <see cref="LangfuseSettings.All"/>.</summary>
    /// <param name="options">The options to change.</param>
    /// <param name="getVariable">Returns a variable's value or <see langword="null"/>.</param>
    /// <param name="problems">One line per value that could not be used as given; empty when all were fine.</param>
    public static void Apply(LangfuseOptions options, Func<string, string?> getVariable, out IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(getVariable);

        var found = new List<string>();
        foreach (var setting in LangfuseSettings.All)
        {
            if (FirstNonEmpty(setting, getVariable) is var (variable, value))
            {
                ApplyOne(options, setting, variable, value, SettingSource.EnvironmentVariable, found);
            }
        }

        problems = found;
    }

    /// <summary>Applies the keys of a configuration section (normally <c>Langfuse</c>), named like the option properties.</summary>
    /// <param name="options">The options to change.</param>
    /// <param name="section">The section; keys are matched without regard to case.</param>
    /// <param name="problems">One line per value that could not be used as given; empty when all were fine.</param>
    public static void Apply(LangfuseOptions options, IConfiguration section, out IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(section);

        var prefix = section is IConfigurationSection { Path.Length: > 0 } named ? named.Path + ConfigurationPath.KeyDelimiter : string.Empty;
        var found = new List<string>();
        foreach (var setting in LangfuseSettings.All)
        {
            var value = section[setting.Key];
            if (!string.IsNullOrEmpty(value))
            {
                ApplyOne(options, setting, prefix + setting.Key, value, SettingSource.Configuration, found);
            }
        }

        problems = found;
    }

    private static (string Variable, string Value)? FirstNonEmpty(LangfuseSetting setting, Func<string, string?> getVariable)
    {
        var value = getVariable(setting.Variable);
        if (!string.IsNullOrEmpty(value))
        {
            return (setting.Variable, value);
        }

        foreach (var alias in setting.Aliases)
        {
            value = getVariable(alias);
            if (!string.IsNullOrEmpty(value))
            {
                return (alias, value);
            }
        }

        return null;
    }

    private static void ApplyOne(LangfuseOptions options, LangfuseSetting setting, string name, string value, SettingSource source, List<string> problems)
    {
        var text = value.Trim();
        SettingOutcome outcome;
        try
        {
            outcome = setting.Parse(options, text, source);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or UriFormatException)
        {
            // A parser should not throw; if one does, the setting is still only a problem, never a crash.
            outcome = SettingOutcome.Fail("could not be read");
        }

        if (outcome.Taken)
        {
            options.Origins[setting.Key] = new SettingOrigin(name, value, setting.Get(options));
        }

        if (outcome.Reason is { } reason)
        {
            var problem = new SettingProblem(setting.Key, name, setting.IsSecret ? null : SettingText.Show(value), reason, Fatal: setting.RequiredForTracing && !outcome.Taken);
            options.ReadingProblems.Add(problem);
            problems.Add(problem.Subject + ".");
        }
    }
}
