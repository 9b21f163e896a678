using System.Security.Cryptography;
using System.Text;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Checks a client's <c>Authorization: Basic base64(publicKey:secretKey)</c> against the relay's keys in constant time
/// (for keys of a given length): both halves are always compared, on UTF-8 bytes, with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>.
/// </summary>
internal sealed class ClientCredentials(string publicKey, string secretKey)
{
    private const int MaxHeaderBytes = 4096;

    private readonly byte[] _publicKey = Encoding.UTF8.GetBytes(publicKey);
    private readonly byte[] _secretKey = Encoding.UTF8.GetBytes(secretKey);

    public bool Verify(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var encoded = authorization.AsSpan(6).Trim();
        if (encoded.Length == 0 || encoded.Length > MaxHeaderBytes)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[MaxHeaderBytes];
        if (!Convert.TryFromBase64Chars(encoded, decoded, out var written))
        {
            return false;
        }

        decoded = decoded[..written];
        var colon = decoded.IndexOf((byte)':');
        if (colon < 0)
        {
            return false;
        }

        var publicOk = CryptographicOperations.FixedTimeEquals(decoded[..colon], _publicKey);
        var secretOk = CryptographicOperations.FixedTimeEquals(decoded[(colon + 1)..], _secretKey);
        return publicOk & secretOk;
    }
}
