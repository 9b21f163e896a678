namespace Langfuse.Agents.Internal.Configuration;

/// <summary>What start-up found in the options, after each unusable value was replaced.</summary>
/// <param name="Replaced">One line per setting that was replaced or normalised: the setting, its value, what is used instead.</param>
/// <param name="CannotWork">Why tracing cannot work (no usable base URL, one key without the other), or null.</param>
internal sealed record SettingsReport(IReadOnlyList<string> Replaced, string? CannotWork);
