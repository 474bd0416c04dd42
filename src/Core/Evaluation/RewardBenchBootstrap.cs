using SelfTaught.Core.Experiments;

namespace SelfTaught.Core.Evaluation;

/// <summary>A 95% interval of a score (0–100 scale) from a bootstrap.</summary>
/// <param name="Low">2.5th percentile of the resampled scores.</param>
/// <param name="High">97.5th percentile.</param>
/// <param name="Resamples">Bootstrap resamples drawn.</param>
public sealed record ScoreInterval(double Low, double High, int Resamples);

/// <summary>Bootstrap intervals of RewardBench's Overall and section scores, and of the difference of two models.</summary>
/// <param name="Overall">Interval of Overall.</param>
/// <param name="Sections">Interval of each section.</param>
public sealed record RewardBenchIntervals(ScoreInterval Overall, IReadOnlyDictionary<string, ScoreInterval> Sections);

/// <summary>
/// Seeded bootstrap intervals for RewardBench scores (DESIGN §1 step 6 and the evaluation issue): examples are
/// resampled with replacement <em>within</em> each subset, so every resample keeps the subsets' sizes and the official
/// weighting applies unchanged; the interval is the 2.5th–97.5th percentile of the resampled scores. Comparing two models
/// on the same examples uses a paired bootstrap: the same resampled examples for both, so the interval is of the
/// difference itself.
/// </summary>
public static class RewardBenchBootstrap
{
    /// <summary>Default number of resamples.</summary>
    public const int DefaultResamples = 1_000;

    /// <summary>Intervals of Overall and the sections for one model's example scores.</summary>
    /// <param name="examples">Example scores (subset, 0/0.5/1); every subset must be present (see <see cref="RewardBenchScoring.Score"/>).</param>
    /// <param name="seed">Seed of the resampling (stored with the run).</param>
    /// <param name="resamples">Resamples to draw.</param>
    public static RewardBenchIntervals Intervals(IReadOnlyList<(string Subset, double Score)> examples, long seed, int resamples = DefaultResamples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 2);
        var bySubset = Group(examples.Select(e => (e.Subset, e.Score, 0.0)));
        var random = Seeds.Random(seed);
        var overall = new double[resamples];
        var sections = RewardBenchScoring.Sections.ToDictionary(s => s.Section, _ => new double[resamples], StringComparer.Ordinal);
        for (var r = 0; r < resamples; r++)
        {
            var scores = RewardBenchScoring.Score(Resample(bySubset, random).Select(e => (e.Subset, e.First)));
            overall[r] = scores.Overall;
            foreach (var (section, values) in sections) values[r] = scores.Sections[section];
        }
        return new RewardBenchIntervals(Percentiles(overall), sections.ToDictionary(s => s.Key, s => Percentiles(s.Value), StringComparer.Ordinal));
    }

    /// <summary>
    /// Interval of Overall(first) − Overall(second) for two models scored on the same examples: each resample draws the
    /// same examples for both.
    /// </summary>
    /// <param name="paired">Per example: its subset and the two models' scores.</param>
    /// <param name="seed">Seed of the resampling.</param>
    /// <param name="resamples">Resamples to draw.</param>
    public static ScoreInterval PairedDifference(IReadOnlyList<(string Subset, double First, double Second)> paired, long seed, int resamples = DefaultResamples)
    {
        ArgumentNullException.ThrowIfNull(paired);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 2);
        var bySubset = Group(paired);
        var random = Seeds.Random(seed);
        var differences = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            var sample = Resample(bySubset, random);
            differences[r] = RewardBenchScoring.Score(sample.Select(e => (e.Subset, e.First))).Overall
                - RewardBenchScoring.Score(sample.Select(e => (e.Subset, e.Second))).Overall;
        }
        return Percentiles(differences);
    }

    internal static List<(string Subset, List<(double First, double Second)> Examples)> Group(IEnumerable<(string Subset, double First, double Second)> examples) =>
        [.. examples.GroupBy(e => e.Subset, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Select(e => (e.First, e.Second)).ToList()))];

    internal static List<(string Subset, double First, double Second)> Resample(List<(string Subset, List<(double First, double Second)> Examples)> bySubset, Random random)
    {
        var sample = new List<(string, double, double)>();
        foreach (var (subset, examples) in bySubset)
            for (var i = 0; i < examples.Count; i++)
            {
                var (first, second) = examples[random.Next(examples.Count)];
                sample.Add((subset, first, second));
            }
        return sample;
    }

    // Percentiles by linear interpolation between order statistics (numpy's default).
    internal static ScoreInterval Percentiles(double[] values)
    {
        Array.Sort(values);
        return new ScoreInterval(Quantile(values, 0.025), Quantile(values, 0.975), values.Length);
    }

    private static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}

/// <summary>
/// Seeded bootstrap intervals of a plain mean of example scores (accuracy on MT-Bench, HelpSteer2 and pair sets),
/// resampling examples within their subsets as <see cref="RewardBenchBootstrap"/> does.
/// </summary>
public static class MeanBootstrap
{
    /// <summary>95% interval of 100 × the mean example score.</summary>
    /// <param name="examples">Example scores (0–1) with their subsets ("" when the set has none).</param>
    /// <param name="seed">Seed of the resampling.</param>
    /// <param name="resamples">Resamples to draw.</param>
    public static ScoreInterval Interval(IReadOnlyList<(string Subset, double Score)> examples, long seed, int resamples = RewardBenchBootstrap.DefaultResamples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        return PairedDifference(examples.Select(e => (e.Subset, e.Score, 0.0)).ToList(), seed, resamples);
    }

    /// <summary>95% interval of 100 × (mean of first − mean of second) for two models scored on the same examples.</summary>
    /// <param name="paired">Per example: its subset and the two models' scores (0–1).</param>
    /// <param name="seed">Seed of the resampling.</param>
    /// <param name="resamples">Resamples to draw.</param>
    public static ScoreInterval PairedDifference(IReadOnlyList<(string Subset, double First, double Second)> paired, long seed, int resamples = RewardBenchBootstrap.DefaultResamples)
    {
        ArgumentNullException.ThrowIfNull(paired);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 2);
        ArgumentOutOfRangeException.ThrowIfZero(paired.Count);
        var bySubset = RewardBenchBootstrap.Group(paired);
        var random = Seeds.Random(seed);
        var values = new double[resamples];
        for (var r = 0; r < resamples; r++)
            values[r] = 100 * RewardBenchBootstrap.Resample(bySubset, random).Average(e => e.First - e.Second);
        return RewardBenchBootstrap.Percentiles(values);
    }
}
