using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Judging;

namespace SelfTaught.Core.Tests.Judging;

public class JudgePlanTests
{
    [Fact]
    public void Placement_IsAFairSeededCoin_PerPair()
    {
        var placements = Enumerable.Range(1, 4_000).Select(id => JudgePlan.Placement(42, id)).ToList();

        Assert.InRange(placements.Count(p => p == Position.A), 1_850, 2_150);
        Assert.Equal(placements, Enumerable.Range(1, 4_000).Select(id => JudgePlan.Placement(42, id)));
        Assert.NotEqual(placements, Enumerable.Range(1, 4_000).Select(id => JudgePlan.Placement(43, id)));
    }

    [Fact]
    public void Requests_CoverTheSamplesInOrder_EachWithItsOwnSeed()
    {
        var requests = JudgePlan.Requests(7, pairKey: 3, fromIndex: 0, count: 15, choicesPerRequest: 4);

        Assert.Equal([(0, 4), (4, 4), (8, 4), (12, 3)], requests.Select(r => (r.FirstIndex, r.Count)));
        Assert.Equal(requests.Select(r => JudgePlan.RequestSeed(7, 3, r.FirstIndex)), requests.Select(r => r.Seed));
        var single = JudgePlan.Requests(7, 3, 0, 15, 1);
        Assert.Equal(15, single.Select(r => r.Seed).Distinct().Count());
        Assert.NotEqual(JudgePlan.RequestSeed(7, 3, 0), JudgePlan.RequestSeed(7, 4, 0));
        Assert.Equal([(5, 2)], JudgePlan.Requests(7, 3, 5, 2, 16).Select(r => (r.FirstIndex, r.Count)));
        Assert.Empty(JudgePlan.Requests(7, 3, 0, 0, 4));
    }

    [Fact]
    public void ChooseKept_WithoutCorrectSamples_DropsThePair()
    {
        SampleOutcome[] none = [new(0, false), new(1, false)];

        Assert.Null(JudgePlan.ChooseKept(none, 1, 1, earlyStop: false));
        Assert.Null(JudgePlan.ChooseKept(none, 1, 1, earlyStop: true));
        Assert.Null(JudgePlan.ChooseKept([], 1, 1, earlyStop: false));
    }

    [Fact]
    public void ChooseKept_FixedN_IsUniformOverTheCorrectSamples_AndSeeded()
    {
        // Samples 2, 5, 9 and 14 are correct: over many pairs each is kept about a quarter of the time.
        var samples = Enumerable.Range(0, 15).Select(i => new SampleOutcome(i, i is 2 or 5 or 9 or 14)).ToList();
        var kept = Enumerable.Range(0, 8_000).Select(pair => JudgePlan.ChooseKept(samples, 11, pair, earlyStop: false)!.Value).ToList();

        var counts = kept.GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([2, 5, 9, 14], counts.Keys.Order());
        // Chi-square with 3 degrees of freedom: 16.27 is the 0.999 quantile.
        var chi = counts.Values.Sum(c => Math.Pow(c - 2_000, 2) / 2_000);
        Assert.True(chi < 16.27, $"chi-square {chi:0.00}");
        Assert.Equal(kept, Enumerable.Range(0, 8_000).Select(pair => JudgePlan.ChooseKept(samples, 11, pair, earlyStop: false)!.Value));
        // The order in which samples arrive does not matter.
        Assert.Equal(kept[17], JudgePlan.ChooseKept(samples.AsEnumerable().Reverse().ToList(), 11, 17, earlyStop: false));
    }

    [Fact]
    public void ChooseKept_EarlyStop_KeepsTheLowestIndexCorrectSample()
    {
        SampleOutcome[] samples = [new(4, true), new(0, false), new(2, true), new(1, false)];

        Assert.Equal(2, JudgePlan.ChooseKept(samples, 1, 1, earlyStop: true));
    }

    [Fact]
    public void EarlyStop_KeptSampleAndDropRate_MatchFixedN_ForIndependentSamples()
    {
        // Simulated judges with per-sample accuracy p: the kept index under early stop is distributed like fixed N's
        // uniformly chosen correct one, both keep a pair with probability 1 − (1 − p)^N, and early stop draws
        // (1 − (1 − p)^N) / p samples on average.
        const int n = 15, pairs = 20_000;
        const double p = 0.3;
        var random = new Random(5);
        int keptFixed = 0, keptEarly = 0;
        long drawnEarly = 0;
        var positionsFixed = new int[n];
        var positionsEarly = new int[n];
        for (var pair = 0; pair < pairs; pair++)
        {
            var outcomes = Enumerable.Range(0, n).Select(i => new SampleOutcome(i, random.NextDouble() < p)).ToList();
            if (JudgePlan.ChooseKept(outcomes, 9, pair, earlyStop: false) is { } f) { keptFixed++; positionsFixed[f]++; }
            var firstCorrect = outcomes.FindIndex(o => o.Correct);
            var drawn = firstCorrect < 0 ? outcomes : outcomes.Take(firstCorrect + 1).ToList();
            drawnEarly += drawn.Count;
            if (JudgePlan.ChooseKept(drawn, 9, pair, earlyStop: true) is { } e) { keptEarly++; positionsEarly[e]++; }
        }

        var expectedKeep = 1 - Math.Pow(1 - p, n);
        Assert.InRange(keptFixed / (double)pairs, expectedKeep - 0.01, expectedKeep + 0.01);
        Assert.Equal(keptFixed, keptEarly); // same samples: a pair is kept iff any sample is correct
        Assert.InRange(drawnEarly / (double)pairs, JudgePlan.ExpectedEarlyStopSamples(p, n) - 0.1, JudgePlan.ExpectedEarlyStopSamples(p, n) + 0.1);
        // Indexes differ (early stop keeps low ones), which is harmless because samples are exchangeable: the kept
        // judgment's content is what matters (the Jobs test compares kept judgments' lengths under both modes).
        Assert.True(positionsEarly[0] > 2 * positionsFixed[0], "early stop keeps the lowest index, fixed N any");
    }

    [Fact]
    public void FullNSubsample_TakesTheShareOrTheMinimum_Seeded()
    {
        var ids = Enumerable.Range(1, 2_000).Select(i => (long)i).ToList();

        var tenPercent = JudgePlan.FullNSubsample(ids, 3, 0.10, 100);
        var atLeast = JudgePlan.FullNSubsample(ids.Take(500).ToList(), 3, 0.10, 100);
        var few = JudgePlan.FullNSubsample(ids.Take(40).ToList(), 3, 0.10, 100);

        Assert.Equal(200, tenPercent.Count);
        Assert.Equal(100, atLeast.Count);
        Assert.Equal(40, few.Count);
        Assert.Equal(tenPercent.Order(), JudgePlan.FullNSubsample(ids, 3, 0.10, 100).Order());
        Assert.NotEqual(tenPercent.Order(), JudgePlan.FullNSubsample(ids, 4, 0.10, 100).Order());
        Assert.NotEqual(Enumerable.Range(1, 200).Select(i => (long)i), tenPercent.Order());
    }

    [Fact]
    public void ExpectedEarlyStopSamples_FollowsTheFormula()
    {
        Assert.Equal((1 - Math.Pow(0.4, 15)) / 0.6, JudgePlan.ExpectedEarlyStopSamples(0.6, 15), 12);
        Assert.Equal(15, JudgePlan.ExpectedEarlyStopSamples(0, 15));
        Assert.Equal(1, JudgePlan.ExpectedEarlyStopSamples(1, 15), 12);
    }

    [Fact]
    public void Statistics_CountPairsAgreementAndParseFailures()
    {
        IterationStatistics.AnnotationCounts[] annotations =
        [
            new(AnnotationStatus.Kept, true, 4, 3),
            new(AnnotationStatus.Kept, true, 4, 1),
            new(AnnotationStatus.Dropped, true, 4, 0),
            new(AnnotationStatus.Kept, false, 1, 1), // early stop: not counted in agreement
        ];

        var statistics = IterationStatistics.Compute(annotations, samplesPerPair: 4, earlyStop: true, samples: 13, invalidSamples: 2, calls: 13, promptTokens: 100, completionTokens: 50);

        Assert.Equal((4, 3, 1, 0.75, 3), (statistics.PairsJudged, statistics.PairsKept, statistics.PairsDropped, statistics.PairsWithCorrectShare, statistics.FullNPairs));
        Assert.Equal(4 / 12.0, statistics.AgreementMean!.Value, 12);
        Assert.Equal([1, 1, 0, 1, 0], statistics.AgreementDistribution);
        Assert.True(statistics.AgreementEstimated);
        Assert.Equal(2 / 13.0, statistics.ParseFailureRate!.Value, 12);
        Assert.Null(IterationStatistics.Compute([], 4, false, 0, 0, 0, 0, 0).AgreementMean);
    }
}
