using SelfTaught.Core.Evaluation;

namespace SelfTaught.Core.Tests.Evaluation;

public class RewardBenchBootstrapTests
{
    /// <summary>Every subset with its official number of examples, each correct with probability <paramref name="accuracy"/>.</summary>
    private static List<(string Subset, double Score)> Examples(double accuracy, int seed, int perSubset = 40)
    {
        var random = new Random(seed);
        return [.. RewardBenchScoring.ExampleCounts.Keys.SelectMany(s => Enumerable.Range(0, perSubset).Select(_ => (s, random.NextDouble() < accuracy ? 1.0 : 0.0)))];
    }

    [Fact]
    public void Intervals_ContainThePointEstimate_AreSeeded_AndNarrowWithMoreExamples()
    {
        var examples = Examples(0.7, 1);
        var point = RewardBenchScoring.Score(examples);

        var intervals = RewardBenchBootstrap.Intervals(examples, seed: 42, resamples: 400);
        var again = RewardBenchBootstrap.Intervals(examples, seed: 42, resamples: 400);
        var other = RewardBenchBootstrap.Intervals(examples, seed: 43, resamples: 400);
        var wide = RewardBenchBootstrap.Intervals(Examples(0.7, 1, perSubset: 10), seed: 42, resamples: 400);

        Assert.InRange(point.Overall, intervals.Overall.Low, intervals.Overall.High);
        foreach (var (section, interval) in intervals.Sections) Assert.InRange(point.Sections[section], interval.Low, interval.High);
        Assert.Equal(intervals.Overall, again.Overall);
        Assert.NotEqual(intervals.Overall, other.Overall);
        Assert.True(wide.Overall.High - wide.Overall.Low > 1.5 * (intervals.Overall.High - intervals.Overall.Low));
        Assert.Equal(400, intervals.Overall.Resamples);
    }

    [Fact]
    public void Intervals_OfAPerfectJudge_AreAPoint()
    {
        var intervals = RewardBenchBootstrap.Intervals(Examples(1.0, 2), seed: 1, resamples: 50);

        Assert.Equal((100, 100), (intervals.Overall.Low, intervals.Overall.High));
    }

    [Fact]
    public void Intervals_CoverTheTrueScore_AboutNineteenTimesInTwenty()
    {
        // Each subset's true accuracy is 0.6, so every section and Overall is 60: count how often the interval covers it.
        var covered = Enumerable.Range(0, 60).Count(trial =>
        {
            var interval = RewardBenchBootstrap.Intervals(Examples(0.6, 100 + trial, perSubset: 30), seed: trial, resamples: 300).Overall;
            return interval.Low <= 60 && 60 <= interval.High;
        });

        Assert.InRange(covered, 51, 60);
    }

    [Fact]
    public void PairedDifference_OfIdenticalModels_IsZero_AndOfABetterModelExcludesZero()
    {
        var baseline = Examples(0.6, 3);
        var random = new Random(4);
        // The second model fixes a third of the baseline's mistakes and keeps its correct answers.
        var better = baseline.Select(e => (e.Subset, e.Score == 1 || random.NextDouble() < 0.33 ? 1.0 : 0.0)).ToList();

        var same = RewardBenchBootstrap.PairedDifference([.. baseline.Select(e => (e.Subset, e.Score, e.Score))], seed: 5, resamples: 200);
        var difference = RewardBenchBootstrap.PairedDifference([.. baseline.Zip(better, (a, b) => (a.Subset, b.Item2, a.Score))], seed: 5, resamples: 400);
        var point = RewardBenchScoring.Score(better).Overall - RewardBenchScoring.Score(baseline).Overall;

        Assert.Equal((0, 0), (same.Low, same.High));
        Assert.True(difference.Low > 0, $"the interval {difference.Low:0.0}–{difference.High:0.0} should exclude 0");
        Assert.InRange(point, difference.Low, difference.High);
    }
}
