using System.Security.Cryptography;
using System.Text;

namespace SelfTaught.SimBackend.Generation;

/// <summary>
/// Small deterministic generator (SplitMix64) seeded from a hash of its inputs, so the same inputs give the same
/// stream on every machine and runtime (unlike <see cref="Random"/>, whose algorithm is not a contract).
/// </summary>
internal sealed class SimRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>Seeds from the SHA-256 of the parts (joined with a separator that cannot occur in them ambiguously).</summary>
    public static SimRandom From(params object?[] parts)
    {
        var text = string.Join('\u001F', parts.Select(p => Convert.ToString(p, System.Globalization.CultureInfo.InvariantCulture) ?? "\u2400"));
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return new SimRandom(BitConverter.ToUInt64(hash, 0));
    }

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, maxExclusive).</summary>
    public int Next(int maxExclusive) => maxExclusive <= 1 ? 0 : (int)(NextUInt64() % (ulong)maxExclusive);

    /// <summary>Uniform in [minInclusive, maxInclusive].</summary>
    public int NextInclusive(int minInclusive, int maxInclusive) => minInclusive + Next(maxInclusive - minInclusive + 1);

    public bool Chance(double probability) => probability > 0 && NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];
}
