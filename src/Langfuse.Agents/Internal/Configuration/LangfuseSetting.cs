namespace Langfuse.Agents.Internal.Configuration;

/// <summary>One row of the settings table: where a setting is read from and how its text is parsed.</summary>
internal sealed class LangfuseSetting
{
    public LangfuseSetting(string key, string variable, SettingParser parse, IReadOnlyList<string>? aliases = null, bool isSecret = false)
    {
        Key = key;
        Variable = variable;
        Parse = parse;
        Aliases = aliases ?? [];
        IsSecret = isSecret;
    }

    /// <summary>The key in the <c>Langfuse</c> configuration section, which is also the option's property name.</summary>
    public string Key { get; }

    /// <summary>The environment variable.</summary>
    public string Variable { get; }

    /// <summary>Further environment variables read, in order, when <see cref="Variable"/> is unset or empty.</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>Whether the value is a secret: problems about it never show the value.</summary>
    public bool IsSecret { get; }

    /// <summary>Parses a value and stores it in the options.</summary>
    public SettingParser Parse { get; }
}
