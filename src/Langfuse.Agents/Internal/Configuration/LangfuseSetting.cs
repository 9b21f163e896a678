namespace Langfuse.Agents.Internal.Configuration;

/// <summary>One row of the settings table: where a setting is read from, how its text is parsed, and how its value reads.</summary>
internal sealed class LangfuseSetting
{
    public LangfuseSetting(
        string key,
        string variable,
        SettingParser parse,
        Func<LangfuseOptions, object?> get,
        IReadOnlyList<string>? aliases = null,
        bool isSecret = false,
        bool requiredForTracing = false)
    {
        Key = key;
        Variable = variable;
        Parse = parse;
        Get = get;
        Aliases = aliases ?? [];
        IsSecret = isSecret;
        RequiredForTracing = requiredForTracing;
    }

    /// <summary>The key in the <c>Langfuse</c> configuration section, which is also the option's property name.</summary>
    public string Key { get; }

    /// <summary>The environment variable.</summary>
    public string Variable { get; }

    /// <summary>Further environment variables read, in order, when <see cref="Variable"/> is unset or empty.</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>Whether the value is a secret: problems about it never show the value.</summary>
    public bool IsSecret { get; }

    /// <summary>
    /// Whether a value that cannot be used turns tracing off instead of being replaced by the default: a base URL
    /// given but unusable must not send the data to Langfuse Cloud instead.
    /// </summary>
    public bool RequiredForTracing { get; }

    /// <summary>Parses a value and stores it in the options.</summary>
    public SettingParser Parse { get; }

    /// <summary>The option's current value.</summary>
    public Func<LangfuseOptions, object?> Get { get; }
}
