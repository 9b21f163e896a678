namespace Langfuse.Agents.Internal.Configuration;

/// <summary>
/// Parses one trimmed, non-empty text value and stores it in <paramref name="options"/>.
/// </summary>
/// <returns>
/// <see langword="null"/> when the value was taken; otherwise why not, as a clause that never repeats the value
/// (the reader decides whether the value may be shown).
/// </returns>
internal delegate string? SettingParser(LangfuseOptions options, string value, SettingSource source);
