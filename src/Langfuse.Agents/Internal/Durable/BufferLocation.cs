using System.Security.Cryptography;
using System.Text;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Where a tracer's on-disk buffer lives: one sub-directory per Langfuse host and public key, so projects and servers
/// never mix, under <see cref="LangfuseOptions.BufferDirectory"/> or a per-user state directory.
/// </summary>
internal static class BufferLocation
{
    public static string Resolve(LangfuseOptions options, Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var root = string.IsNullOrWhiteSpace(options.BufferDirectory) ? DefaultRoot(getVariable) : options.BufferDirectory!;
        return Path.Combine(root, SubdirectoryName(options.BaseUrl, options.PublicKey ?? string.Empty));
    }

    /// <summary>
    /// <c>{host}_{port}-{first 16 hex of SHA-256(public key)}</c>: readable enough to find, and the key itself never
    /// lands in a path.
    /// </summary>
    public static string SubdirectoryName(Uri baseUrl, string publicKey)
    {
        var host = new string([.. baseUrl.Host.Select(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_')]);
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(publicKey)))[..16];
        return $"{host}_{baseUrl.Port}-{digest}";
    }

    /// <summary>The per-user buffer root (<c>{state dir}/langfuse-agents/buffer</c>); the relay keeps its own directory beside it.</summary>
    public static string DefaultRoot(Func<string, string?> getVariable)
    {
        string stateHome;
        if (OperatingSystem.IsWindows())
        {
            stateHome = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        }
        else if (OperatingSystem.IsMacOS())
        {
            stateHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "Library", "Application Support");
        }
        else
        {
            var xdg = getVariable("XDG_STATE_HOME");
            stateHome = !string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        }

        return Path.Combine(stateHome, "langfuse-agents", "buffer");
    }
}
