using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Experiments;

/// <summary>What a pair's stable key is made of.</summary>
/// <param name="PairId">The pair's id.</param>
/// <param name="Method">How it was made.</param>
/// <param name="SourceRow">Position of its source row (instruction or labeled pair) in the imported dataset; null without one.</param>
public sealed record PairKeyParts(long PairId, PairMethod Method, int? SourceRow)
{
    /// <summary>The pair's stable key (<see cref="PairKeys.Stable"/>).</summary>
    public long Key => PairKeys.Stable(Method, SourceRow, PairId);
}

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

    /// <summary>The key parts of <paramref name="pairs"/>, as one query (the source row read through the pair's instruction or labeled pair).</summary>
    public static IQueryable<PairKeyParts> Parts(IQueryable<Pair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return pairs.Select(p => new PairKeyParts(p.Id, p.Method,
            p.Instruction != null ? (int?)p.Instruction.RowIndex : p.SourceLabeledPair != null ? (int?)p.SourceLabeledPair.RowIndex : null));
    }
}
