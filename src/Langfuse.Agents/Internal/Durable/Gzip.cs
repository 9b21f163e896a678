using System.IO.Compression;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>Bounded gzip inflation for stored bodies: never inflates a bomb beyond the limit.</summary>
internal static class Gzip
{
    /// <summary>The inflated bytes, or null when they are not valid gzip or would exceed <paramref name="maxBytes"/>.</summary>
    public static byte[]? TryDecode(ReadOnlySpan<byte> compressed, long maxBytes)
    {
        try
        {
            using var input = new MemoryStream(compressed.ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = gzip.Read(chunk)) > 0)
            {
                if (output.Length + read > maxBytes)
                {
                    return null;
                }

                output.Write(chunk, 0, read);
            }

            return output.ToArray();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
