namespace Langfuse.Agents.Internal.Configuration;

/// <summary>What a parser did with one text value.</summary>
/// <param name="Reason">Why the value could not be used as given (a clause that never repeats the value), or null.</param>
/// <param name="Taken">Whether the option was set from it (possibly normalised, when <paramref name="Reason"/> says how).</param>
internal readonly record struct SettingOutcome(string? Reason, bool Taken)
{
    public static SettingOutcome Ok { get; } = new(null, true);

    public static SettingOutcome Fail(string reason) => new(reason, false);

    public static SettingOutcome Normalised(string reason) => new(reason, true);
}
