using System.Buffers.Binary;
using System.Numerics;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// CRC-32C (Castagnoli), as used by iSCSI, ext4 and many log formats: <see cref="BitOperations.Crc32C(uint, ulong)"/>
/// (hardware-accelerated where the CPU has it) over 8-byte, then 4-byte, then 1-byte steps, with the usual
/// all-ones initial value and final inversion, so <c>"123456789"</c> gives <c>0xE3069283</c>.
/// </summary>
internal static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        if (data.Length >= 4)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt32LittleEndian(data));
            data = data[4..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
