using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Langfuse.Agents.Internal;

/// <summary>W3C ids: a 16-byte trace id and an 8-byte span id, kept as integers until they are written out.</summary>
internal static class Ids
{
    // Random.Shared is thread-safe, allocation-free and fast (xoshiro); ids need uniqueness, not secrecy.
    public static (ulong High, ulong Low) NewTraceId()
    {
        Span<ulong> words = stackalloc ulong[2];
        do
        {
            Random.Shared.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(words));
        }
        while ((words[0] | words[1]) == 0);
        return (words[0], words[1]);
    }

    public static ulong NewSpanId()
    {
        Span<ulong> word = stackalloc ulong[1];
        do
        {
            Random.Shared.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(word));
        }
        while (word[0] == 0);
        return word[0];
    }

    public static string TraceIdToHex(ulong high, ulong low) => string.Create(32, (high, low), static (span, ids) =>
    {
        WriteHex(span[..16], ids.high);
        WriteHex(span[16..], ids.low);
    });

    public static string SpanIdToHex(ulong id) => string.Create(16, id, static (span, value) => WriteHex(span, value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteHex(Span<char> destination, ulong value)
    {
        for (var i = 15; i >= 0; i--)
        {
            destination[i] = HexDigit((int)(value & 0xF));
            value >>= 4;
        }
    }

    public static void WriteBigEndian(Span<byte> destination, ulong value)
    {
        for (var i = 7; i >= 0; i--)
        {
            destination[i] = (byte)value;
            value >>= 8;
        }
    }

    public static bool TryParseTraceId(ReadOnlySpan<char> hex, out ulong high, out ulong low)
    {
        high = low = 0;
        return hex.Length == 32
            && TryParseHex(hex[..16], out high)
            && TryParseHex(hex[16..], out low)
            && (high | low) != 0;
    }

    public static bool TryParseSpanId(ReadOnlySpan<char> hex, out ulong id)
    {
        id = 0;
        return hex.Length == 16 && TryParseHex(hex, out id) && id != 0;
    }

    /// <summary>
    /// The sampling rule of Langfuse's server and legacy Python SDK: the first 8 hex characters of
    /// SHA-256(trace id as lowercase hex), read as an integer and divided by 0xFFFFFFFF, kept when below the rate.
    /// Every process (and every language) therefore keeps or drops the same traces.
    /// </summary>
    public static bool IsSampled(ulong high, ulong low, double rate)
    {
        if (rate >= 1.0 || rate <= 0.0)
        {
            return rate >= 1.0;
        }

        Span<byte> ascii = stackalloc byte[32];
        WriteHexAscii(ascii[..16], high);
        WriteHexAscii(ascii[16..], low);
        return IsSampled(ascii, rate);
    }

    /// <summary>The same rule for a trace id given as text (any format: other SDKs use UUIDs), lowercased.</summary>
    public static bool IsSampled(string traceId, double rate)
    {
        if (rate >= 1.0 || rate <= 0.0)
        {
            return rate >= 1.0;
        }

        return IsSampled(System.Text.Encoding.UTF8.GetBytes(traceId.ToLowerInvariant()), rate);
    }

    private static bool IsSampled(ReadOnlySpan<byte> traceIdUtf8, double rate)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(traceIdUtf8, hash);
        var prefix = ((uint)hash[0] << 24) | ((uint)hash[1] << 16) | ((uint)hash[2] << 8) | hash[3];
        return prefix / (double)0xFFFFFFFF < rate;
    }

    private static void WriteHexAscii(Span<byte> destination, ulong value)
    {
        for (var i = 15; i >= 0; i--)
        {
            destination[i] = (byte)HexDigit((int)(value & 0xF));
            value >>= 4;
        }
    }

    private static bool TryParseHex(ReadOnlySpan<char> hex, out ulong value)
    {
        value = 0;
        foreach (var c in hex)
        {
            int digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | (uint)digit;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static char HexDigit(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
}
