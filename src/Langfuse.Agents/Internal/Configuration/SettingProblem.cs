namespace Langfuse.Agents.Internal.Configuration;

/// <summary>A text setting that could not be used as given.</summary>
/// <param name="Key">The option it sets.</param>
/// <param name="Name">The environment variable or configuration path it came from.</param>
/// <param name="Shown">The value as it may appear in a log line, or null for a secret.</param>
/// <param name="Reason">What is wrong, as a clause.</param>
/// <param name="Fatal">Tracing cannot work without it (an unusable base URL): nothing else can stand in for it.</param>
internal sealed record SettingProblem(string Key, string Name, string? Shown, string Reason, bool Fatal)
{
    /// <summary>"NAME=value reason" (or, for a secret, "NAME reason (the value is not shown)").</summary>
    public string Subject => Shown is null ? $"{Name} {Reason} (the value is not shown)" : $"{Name}={Shown} {Reason}";
}
