namespace Langfuse.Agents.Internal.Configuration;

/// <summary>Where a text setting came from; it decides how durations are written and how problems name the setting.</summary>
internal enum SettingSource
{
    /// <summary>A process environment variable: durations are plain numbers in the variable's unit.</summary>
    EnvironmentVariable,

    /// <summary>An <c>IConfiguration</c> section: durations are a TimeSpan string or a number of seconds.</summary>
    Configuration,
}
