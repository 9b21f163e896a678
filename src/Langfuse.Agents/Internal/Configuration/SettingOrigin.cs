namespace Langfuse.Agents.Internal.Configuration;

/// <summary>Where an option's value came from when a text setting set it, so a later problem can name that setting.</summary>
/// <param name="Name">The environment variable or configuration path.</param>
/// <param name="Text">The text as given.</param>
/// <param name="Value">The value it set; when the option no longer holds it, code changed it afterwards.</param>
internal sealed record SettingOrigin(string Name, string Text, object? Value);
