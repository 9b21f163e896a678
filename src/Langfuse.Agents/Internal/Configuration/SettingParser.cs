namespace Langfuse.Agents.Internal.Configuration;

/// <summary>Parses one trimmed, non-empty text value and stores it in <paramref name="options"/> when it can be used.</summary>
/// <returns>Whether it was taken, and otherwise (or if it was normalised) why, as a clause that never repeats the value.</returns>
internal delegate SettingOutcome SettingParser(LangfuseOptions options, string value, SettingSource source);
