using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Experiments;

/// <summary>
/// A pair's key for seeded choices (placement, request seeds, kept sample, balancing): its method and the position of
/// its source row in the imported dataset, so the same data and seed give the same choices in any database, whatever
/// order pairs were stored in. Pairs without a source row (made elsewhere) fall back to their id.
/// </summary>
public static class PairKeys
{
    // Keys of pairs with a source row start at 2^40, above any pair id a database will reach.
    private const int MethodShift = 40;

    /// <summary>The stable key of a pair made by <paramref name="method"/> from the source row at <paramref name="sourceRowIndex"/>.</summary>
    public static long Stable(PairMethod method, int? sourceRowIndex, long pairId) =>
        sourceRowIndex is { } row ? (((long)method + 1) << MethodShift) | (uint)row : pairId;
}
