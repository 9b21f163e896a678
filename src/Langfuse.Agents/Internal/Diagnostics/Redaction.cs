namespace Langfuse.Agents.Internal.Diagnostics;

/// <summary>Turns values that may carry secrets into text safe for a log line.</summary>
internal static class Redaction
{
    /// <summary>Scheme, host, port and path only: user info and query strings can hold credentials.</summary>
    public static string Url(Uri? uri)
    {
        if (uri is null)
        {
            return "(none)";
        }

        if (!uri.IsAbsoluteUri)
        {
            return "(relative URL)";
        }

        var builder = new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty, Query = string.Empty, Fragment = string.Empty };
        return builder.Uri.GetLeftPart(UriPartial.Path);
    }
}
