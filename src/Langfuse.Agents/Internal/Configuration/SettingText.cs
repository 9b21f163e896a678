namespace Langfuse.Agents.Internal.Configuration;

/// <summary>Renders setting values for problem messages: one line, bounded, without credentials.</summary>
internal static class SettingText
{
    private const int MaxShownLength = 80;

    /// <summary>
    /// The value quoted for a message. URL user info is masked, and a value that looks like a Langfuse key
    /// (someone pasted a key into the wrong variable) is not shown at all.
    /// </summary>
    public static string Show(string value)
    {
        if (value.Contains("sk-lf-", StringComparison.OrdinalIgnoreCase) || value.Contains("pk-lf-", StringComparison.OrdinalIgnoreCase))
        {
            return "(value not shown: it looks like a Langfuse key)";
        }

        var masked = MaskUserInfo(value);
        var shown = masked.Length > MaxShownLength ? string.Concat(masked.AsSpan(0, MaxShownLength), "...") : masked;
        return string.Create(shown.Length + 2, shown, static (span, text) =>
        {
            span[0] = '"';
            for (var i = 0; i < text.Length; i++)
            {
                span[i + 1] = char.IsControl(text[i]) ? '?' : text[i];
            }

            span[^1] = '"';
        });
    }

    /// <summary>Replaces the user info of a URL-looking text (<c>scheme://user:pass@host</c>) with <c>***</c>.</summary>
    public static string MaskUserInfo(string value)
    {
        var start = value.IndexOf("://", StringComparison.Ordinal);
        if (start < 0)
        {
            return value;
        }

        start += 3;
        var authorityEnd = value.IndexOfAny(['/', '?', '#'], start);
        if (authorityEnd < 0)
        {
            authorityEnd = value.Length;
        }

        var at = value.LastIndexOf('@', authorityEnd - 1, authorityEnd - start);
        return at < 0 ? value : string.Concat(value.AsSpan(0, start), "***", value.AsSpan(at));
    }

    /// <summary>An option's value for a message ("using ... instead"), as a person would write it; never a key.</summary>
    public static string Value(string key, object? value) => value switch
    {
        null => key switch
        {
            nameof(LangfuseOptions.Environment) => "none (Langfuse shows \"default\")",
            nameof(LangfuseOptions.ServiceName) => "the entry assembly's name",
            nameof(LangfuseOptions.BufferDirectory) => "the default directory",
            _ => "none",
        },
        _ when key is nameof(LangfuseOptions.PublicKey) or nameof(LangfuseOptions.SecretKey) => "(a key, not shown)",
        TimeSpan duration => Duration(duration),
        Uri url => Diagnostics.Redaction.Url(url),
        bool flag => flag ? "true" : "false",
        IngestionProtocol protocol => protocol == IngestionProtocol.Legacy ? "legacy" : Enum.IsDefined(protocol) ? "otlp" : ((int)protocol).ToString(System.Globalization.CultureInfo.InvariantCulture),
        BufferFullPolicy policy => policy == BufferFullPolicy.RejectNewest ? "reject_newest" : Enum.IsDefined(policy) ? "drop_oldest" : ((int)policy).ToString(System.Globalization.CultureInfo.InvariantCulture),
        string text => Show(text),
        IFormattable number => number.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => Show(value.ToString() ?? string.Empty),
    };

    /// <summary>A duration for a message, in the unit people write it in.</summary>
    public static string Duration(TimeSpan value) =>
        value.Duration() < TimeSpan.FromSeconds(1) && value != TimeSpan.Zero
            ? FormattableString.Invariant($"{value.TotalMilliseconds} ms")
            : FormattableString.Invariant($"{value.TotalSeconds} s");
}
