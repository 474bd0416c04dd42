using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;

namespace SelfTaught.Core.Judging;

/// <summary>One judge request: samples <see cref="FirstIndex"/> … <see cref="FirstIndex"/> + <see cref="Count"/> − 1 of a pair.</summary>
/// <param name="FirstIndex">Sample index of the request's first choice.</param>
/// <param name="Count">Choices asked for (<c>n</c>); 1 unless the endpoint accepts <c>n</c>.</param>
/// <param name="Seed">The request's own seed, derived from (iteration seed, pair key, first sample index).</param>
public sealed record JudgeRequest(int FirstIndex, int Count, long Seed);

/// <summary>What the rejection sampling of one pair needs to know about a sample.</summary>
/// <param name="Index">Sample index.</param>
/// <param name="Correct">The parsed verdict equals the gold label (false for invalid verdicts).</param>
public readonly record struct SampleOutcome(int Index, bool Correct);

/// <summary>
/// The seeded decisions of judgment annotation (DESIGN §1 step 3), as pure functions of the iteration's seed and the
/// pair: where y_w goes, the seed of every request, which correct sample is kept, and which pairs form the full-N
/// subsample under early stop. Re-running with the same seed makes the same decisions.
/// </summary>
public static class JudgePlan
{
    /// <summary>Where y_w is shown (A or B) for <paramref name="pairKey"/>: a seeded fair coin; the gold label is this position.</summary>
    public static Position Placement(long iterationSeed, long pairKey) =>
        Seeds.Derive(iterationSeed, SeedStreams.Placement, pairKey) % 2 == 0 ? Position.A : Position.B;

    /// <summary>
    /// The seed of the request whose first sample is <paramref name="firstIndex"/>: its own, so that samples are
    /// independent (one shared seed makes vLLM and Ollama return N identical texts).
    /// </summary>
    public static long RequestSeed(long iterationSeed, long pairKey, int firstIndex) =>
        Seeds.Derive(iterationSeed, SeedStreams.JudgeRequest, pairKey, firstIndex);

    /// <summary>
    /// Requests for samples <paramref name="fromIndex"/> … <paramref name="fromIndex"/> + <paramref name="count"/> − 1,
    /// at most <paramref name="choicesPerRequest"/> choices each (1 when the endpoint has no <c>n</c>).
    /// </summary>
    public static IReadOnlyList<JudgeRequest> Requests(long iterationSeed, long pairKey, int fromIndex, int count, int choicesPerRequest)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(choicesPerRequest, 1);
        var requests = new List<JudgeRequest>();
        for (var first = fromIndex; first < fromIndex + count; first += choicesPerRequest)
            requests.Add(new JudgeRequest(first, Math.Min(choicesPerRequest, fromIndex + count - first), RequestSeed(iterationSeed, pairKey, first)));
        return requests;
    }

    /// <summary>
    /// The kept sample of a pair, or null when none is correct (the pair is dropped). Fixed N: one correct sample
    /// chosen uniformly at random (seeded by the pair key). Early stop: the correct sample with the lowest index, which for
    /// independent samples has the same distribution as a uniformly chosen one given at least one is correct.
    /// </summary>
    public static int? ChooseKept(IReadOnlyCollection<SampleOutcome> samples, long iterationSeed, long pairKey, bool earlyStop)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var correct = samples.Where(s => s.Correct).Select(s => s.Index).Order().ToList();
        if (correct.Count == 0) return null;
        if (earlyStop) return correct[0];
        return correct[Seeds.Random(iterationSeed, SeedStreams.Keep, pairKey).Next(correct.Count)];
    }

    /// <summary>
    /// Under early stop, the pairs annotated with all N samples so that agreement statistics are unbiased: the
    /// max(⌈share · P⌉, min(minimum, P)) pairs with the smallest seeded keys.
    /// </summary>
    public static IReadOnlySet<long> FullNSubsample(IReadOnlyCollection<long> pairIds, long iterationSeed, double share, int minimum)
    {
        ArgumentNullException.ThrowIfNull(pairIds);
        var size = FullNSubsampleSize(pairIds.Count, share, minimum);
        return pairIds.OrderBy(id => Seeds.Derive(iterationSeed, SeedStreams.FullN, id)).ThenBy(id => id).Take(size).ToHashSet();
    }

    /// <summary>How many of <paramref name="pairs"/> pairs the full-N subsample holds.</summary>
    public static int FullNSubsampleSize(int pairs, double share, int minimum) =>
        Math.Min(pairs, Math.Max((int)Math.Ceiling(share * pairs), Math.Min(minimum, pairs)));

    /// <summary>
    /// Expected model samples per pair under early stop with batches of one: (1 − (1 − p)^N) / p for per-sample
    /// accuracy <paramref name="p"/>, N when p is 0.
    /// </summary>
    public static double ExpectedEarlyStopSamples(double p, int n) => p <= 0 ? n : (1 - Math.Pow(1 - p, n)) / p;
}
