using System.Buffers.Binary;
using System.Security.Cryptography;

namespace SelfTaught.Core.Experiments;

/// <summary>
/// Seeds derived from an experiment's master seed and a path of numbers (stage, iteration, pair, sample index, ...),
/// so every random choice can be repeated exactly and no two choices share a seed by accident.
/// </summary>
public static class Seeds
{
    /// <summary>Largest seed handed out: 2^31 − 1, which every server accepts (llama.cpp takes 32 bits, some clients signed ones).</summary>
    public const long MaxSeed = int.MaxValue;

    /// <summary>
    /// The seed for <paramref name="path"/> under <paramref name="seed"/>: the first 8 bytes of SHA-256 over the
    /// little-endian 64-bit values, reduced to 0..<see cref="MaxSeed"/>. Stable across versions and machines.
    /// </summary>
    public static long Derive(long seed, params ReadOnlySpan<long> path)
    {
        Span<byte> input = stackalloc byte[8 * (path.Length + 1)];
        BinaryPrimitives.WriteInt64LittleEndian(input, seed);
        for (var i = 0; i < path.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(input[(8 * (i + 1))..], path[i]);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, digest);
        return (long)(BinaryPrimitives.ReadUInt64LittleEndian(digest) % (ulong)(MaxSeed + 1));
    }

    /// <summary>A <see cref="Random"/> seeded with <see cref="Derive"/>: the same path always yields the same sequence.</summary>
    public static Random Random(long seed, params ReadOnlySpan<long> path) => new((int)Derive(seed, path));

    /// <summary>A fresh master seed for a new experiment (0..<see cref="MaxSeed"/>), from the OS's random source.</summary>
    public static long NewSeed() => RandomNumberGenerator.GetInt32(int.MaxValue);
}
