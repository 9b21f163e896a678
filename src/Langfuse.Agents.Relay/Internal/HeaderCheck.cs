namespace Langfuse.Agents.Relay.Internal;

/// <summary>A header accepted (with its normalised value, possibly null) or refused with a status and message.</summary>
internal readonly record struct HeaderCheck(bool Accepted, string? Value, int Status, string? Error)
{
    public static HeaderCheck Accept(string? value) => new(true, value, 0, null);

    public static HeaderCheck Refuse(int status, string error) => new(false, null, status, error);
}
