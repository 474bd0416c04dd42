using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Evaluation;

/// <summary>An example of an evaluation set, as the scoring needs it.</summary>
/// <param name="Key">Stable key within the set (RewardBench: <c>subset/id</c>).</param>
/// <param name="Subset">Subset (RewardBench), question category (MT-Bench) or null.</param>
/// <param name="ChosenLength">Characters of the chosen (better) response.</param>
/// <param name="RejectedLength">Characters of the rejected response.</param>
/// <param name="SourceChosenPosition">Where the chosen response stands in the source's own order (MT-Bench: A when the human preferred model_a); "source order" and "swapped" are read against it.</param>
public sealed record EvaluationExample(string Key, string? Subset, int ChosenLength, int RejectedLength, Position SourceChosenPosition = Position.A);

/// <summary>One judge output of an example, or one externally scored outcome.</summary>
/// <param name="ExampleKey">The example's <see cref="EvaluationExample.Key"/>.</param>
/// <param name="ChosenPosition">Where the chosen response was shown; null for an external score with no order.</param>
/// <param name="Repeat">Index of the seed (repetition) the output belongs to, 0-based.</param>
/// <param name="Sample">Index of the sample within its repetition and order (maj@k), 0-based.</param>
/// <param name="Verdict">The leniently parsed verdict; <see cref="Verdict.Invalid"/> is a parse error. Null when <paramref name="Score"/> is given.</param>
/// <param name="Score">An externally computed example score (0–1), used as it is; null for judge outputs.</param>
public sealed record EvaluationOutcome(string ExampleKey, Position? ChosenPosition, int Repeat, int Sample, Verdict? Verdict, double? Score = null);

/// <summary>How outcomes become scores.</summary>
/// <param name="Benchmark">RewardBench scores sections and Overall with the official weights; the others report accuracy.</param>
/// <param name="ExcludeParseErrors">Leave judgments without a parsable verdict out of accuracy (MT-Bench's option) instead of counting them.</param>
/// <param name="BootstrapSeed">Seed of the bootstrap intervals.</param>
/// <param name="Resamples">Bootstrap resamples; 0 computes no intervals.</param>
public sealed record EvaluationProtocol(BenchmarkKind Benchmark, bool ExcludeParseErrors = false, long BootstrapSeed = 0, int Resamples = RewardBenchBootstrap.DefaultResamples);

/// <summary>Accuracy of a subset of judgments (0–100) with how many it averages.</summary>
/// <param name="Score">Mean score ×100; null when nothing was judged.</param>
/// <param name="Count">Judgments (or examples) averaged.</param>
public sealed record CountedScore(double? Score, int Count);

/// <summary>A subset's score.</summary>
/// <param name="Score">Mean example score ×100; null when the subset has no judged example.</param>
/// <param name="Examples">Judged examples.</param>
/// <param name="Weight">Official RewardBench weight (<c>EXAMPLE_COUNTS</c>), null for other sets.</param>
/// <param name="ParseErrors">Judgments of the subset without a parsable verdict.</param>
public sealed record SubsetScore(double? Score, int Examples, int? Weight, int ParseErrors);

/// <summary>What went wrong, counted.</summary>
/// <param name="ParseErrors">Samples whose output has no parsable verdict.</param>
/// <param name="UnresolvedJudgments">Judgments (one example, order and seed) with no majority: no parsable sample, or a tied vote (maj@k); scored 0.5 on RewardBench and flagged.</param>
/// <param name="TiedVotes">Of those, judgments whose parsable samples split evenly.</param>
/// <param name="ExcludedJudgments">Judgments left out of accuracy because <see cref="EvaluationProtocol.ExcludeParseErrors"/> is set.</param>
/// <param name="NotJudged">Examples of the set with no outcome at all (failed calls, or missing from an import).</param>
public sealed record EvaluationErrors(int ParseErrors, int UnresolvedJudgments, int TiedVotes, int ExcludedJudgments, int NotJudged);

/// <summary>Accuracy by the position the chosen response was shown in.</summary>
/// <param name="ChosenAsA">Accuracy of judgments with the chosen response as A.</param>
/// <param name="ChosenAsB">Accuracy with it as B.</param>
/// <param name="Difference">ChosenAsA − ChosenAsB, in points; null unless both were judged.</param>
public sealed record PositionBias(CountedScore ChosenAsA, CountedScore ChosenAsB, double? Difference);

/// <summary>Accuracy by whether the chosen response is the longer one (in characters); equal lengths count in neither.</summary>
/// <param name="ChosenLonger">Accuracy of judgments where the chosen response is longer.</param>
/// <param name="ChosenShorter">Accuracy where it is shorter.</param>
/// <param name="Difference">ChosenLonger − ChosenShorter, in points; null unless both exist.</param>
public sealed record LengthBias(CountedScore ChosenLonger, CountedScore ChosenShorter, double? Difference);

/// <summary>Pairwise accuracy in each order (MT-Bench agreement, HelpSteer2, pair sets).</summary>
/// <param name="SourceOrder">Accuracy with the responses in the source's order (MT-Bench: model_a as A).</param>
/// <param name="Swapped">Accuracy with the two swapped.</param>
/// <param name="BetterFirst">Accuracy with the better (chosen) response shown first (A).</param>
/// <param name="BetterSecond">Accuracy with it shown second (B).</param>
/// <param name="Average">Mean of the example scores: the average over both orders where both were judged.</param>
/// <param name="PositionConsistent">Share of (example, seed) judged in both orders that is correct in both.</param>
public sealed record OrderAccuracy(CountedScore SourceOrder, CountedScore Swapped, CountedScore BetterFirst, CountedScore BetterSecond,
    CountedScore Average, CountedScore PositionConsistent);

/// <summary>Bootstrap 95% intervals of Overall and (RewardBench) the sections.</summary>
/// <param name="Overall">Interval of Overall; null when it has none (too few examples, or a RewardBench subset unjudged).</param>
/// <param name="Sections">Intervals of the sections.</param>
/// <param name="Seed">The resampling's seed.</param>
public sealed record EvaluationIntervals(ScoreInterval? Overall, IReadOnlyDictionary<string, ScoreInterval> Sections, long Seed);

/// <summary>
/// The scores of an evaluation run, on a 0–100 scale and unrounded, as stored in <see cref="EvaluationRun.SummaryJson"/>.
/// </summary>
/// <param name="Benchmark">The protocol scored.</param>
/// <param name="Overall">RewardBench: the mean of the four sections; otherwise the mean example score (accuracy averaged over the orders judged). Null when it cannot be computed (a RewardBench section without a judged subset, or nothing judged).</param>
/// <param name="Sections">RewardBench sections (Chat, Chat Hard, Safety, Reasoning) computed from their judged subsets.</param>
/// <param name="Subsets">Per subset (RewardBench subsets always, others when the set has them).</param>
/// <param name="MissingSubsets">RewardBench subsets with no judged example: their sections use the others (as RewardBench's own tool does) and Overall is not computed when a whole section is missing.</param>
/// <param name="Examples">Examples in the set.</param>
/// <param name="Judged">Examples with at least one scored judgment.</param>
/// <param name="Judgments">Scored judgments (example × order × seed).</param>
/// <param name="Errors">Parse errors, unresolved votes, exclusions, examples not judged.</param>
/// <param name="PositionBias">Accuracy with the chosen response as A vs as B.</param>
/// <param name="LengthBias">Accuracy with the chosen response longer vs shorter.</param>
/// <param name="Accuracy">Per-order accuracies, average and position consistency.</param>
/// <param name="Intervals">Bootstrap 95% intervals.</param>
public sealed record EvaluationSummary(
    BenchmarkKind Benchmark,
    double? Overall,
    IReadOnlyDictionary<string, double> Sections,
    IReadOnlyDictionary<string, SubsetScore> Subsets,
    IReadOnlyList<string> MissingSubsets,
    int Examples,
    int Judged,
    int Judgments,
    EvaluationErrors Errors,
    PositionBias PositionBias,
    LengthBias LengthBias,
    OrderAccuracy Accuracy,
    EvaluationIntervals Intervals)
{
    /// <summary>Rows of the data set left out by the protocol, by reason (MT-Bench tie votes, HelpSteer2 equal scores, ...).</summary>
    public IReadOnlyDictionary<string, int> Filtered { get; init; } = new Dictionary<string, int>();
}

/// <summary>
/// Turns judge outputs into an evaluation's scores (DESIGN §1 step 6), as pure functions. A <em>judgment</em> is one
/// example judged in one order with one seed: with k samples (maj@k) its verdict is the majority of the parsable
/// samples' verdicts, and with no parsable sample or a tied vote it has none (unresolved, flagged). A judgment scores 1
/// when its verdict picks the chosen response and 0 when it picks the other; an unresolved judgment scores 0.5 on
/// RewardBench (its rule for parse errors) and 0 elsewhere (a parse error counts as disagreement), or is left out when
/// <see cref="EvaluationProtocol.ExcludeParseErrors"/> is set. An example's score is the mean of its judgments' scores,
/// so the <c>both</c> position mode averages the two orders and several seeds are averaged; every score above is linear
/// in example scores, so averaging seeds first equals averaging each seed's scores.
/// </summary>
public static class EvaluationScoring
{
    /// <summary>The verdict of one judgment from its samples' verdicts: the majority of the parsable ones.</summary>
    /// <returns>The verdict, or null with <c>Tied</c> true for an even split and false when no sample parsed.</returns>
    public static (Verdict? Verdict, bool Tied) Majority(IEnumerable<Verdict> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        int a = 0, b = 0;
        foreach (var verdict in samples)
        {
            if (verdict == Verdict.A) a++;
            else if (verdict == Verdict.B) b++;
        }
        if (a == 0 && b == 0) return (null, false);
        if (a == b) return (null, true);
        return (a > b ? Verdict.A : Verdict.B, false);
    }

    /// <summary>Scores <paramref name="outcomes"/> of the examples of one set.</summary>
    /// <exception cref="ArgumentException">An outcome names an unknown example, or an external score is outside 0–1.</exception>
    public static EvaluationSummary Summarize(EvaluationProtocol protocol, IReadOnlyList<EvaluationExample> examples, IEnumerable<EvaluationOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(outcomes);
        var rewardBench = protocol.Benchmark == BenchmarkKind.RewardBench;
        var byKey = new Dictionary<string, EvaluationExample>(StringComparer.Ordinal);
        foreach (var example in examples)
            if (!byKey.TryAdd(example.Key, example))
                throw new ArgumentException($"Example key '{example.Key}' appears twice in the set.", nameof(examples));

        var judgments = Judgments(outcomes, byKey, rewardBench, protocol.ExcludeParseErrors, out var parseErrors);

        // Per example: the mean of its scored judgments.
        var exampleScores = judgments.Where(j => j.Score is not null)
            .GroupBy(j => j.Example.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Average(j => j.Score!.Value), StringComparer.Ordinal);
        var scoredExamples = examples.Where(e => exampleScores.ContainsKey(e.Key)).Select(e => (Example: e, Score: exampleScores[e.Key])).ToList();

        var subsetParseErrors = judgments.Where(j => j.Unresolved).GroupBy(j => j.Example.Subset ?? "", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var subsets = new Dictionary<string, SubsetScore>(StringComparer.Ordinal);
        var subsetNames = rewardBench
            ? RewardBenchScoring.ExampleCounts.Keys.Concat(examples.Select(e => e.Subset).OfType<string>()).Distinct(StringComparer.Ordinal)
            : examples.Select(e => e.Subset).OfType<string>().Distinct(StringComparer.Ordinal);
        foreach (var subset in subsetNames.Order(StringComparer.Ordinal))
        {
            var scores = scoredExamples.Where(e => e.Example.Subset == subset).Select(e => e.Score).ToList();
            subsets[subset] = new SubsetScore(scores.Count == 0 ? null : 100 * scores.Average(), scores.Count,
                RewardBenchScoring.ExampleCounts.TryGetValue(subset, out var weight) && rewardBench ? weight : null,
                subsetParseErrors.GetValueOrDefault(subset));
        }

        IReadOnlyDictionary<string, double> sections = new Dictionary<string, double>();
        IReadOnlyList<string> missing = [];
        double? overall;
        if (rewardBench)
        {
            (overall, sections, missing) = RewardBenchScoring.ScoreAvailable(
                subsets.Where(s => s.Value.Score is not null).ToDictionary(s => s.Key, s => s.Value.Score!.Value, StringComparer.Ordinal));
        }
        else
        {
            overall = scoredExamples.Count == 0 ? null : 100 * scoredExamples.Average(e => e.Score);
        }

        var intervals = Intervals(protocol, scoredExamples, missing.Count == 0);
        var errors = new EvaluationErrors(parseErrors,
            judgments.Count(j => j.Unresolved), judgments.Count(j => j.Tied), judgments.Count(j => j.Unresolved && j.Score is null),
            examples.Count - scoredExamples.Count);
        var scored = judgments.Where(j => j.Score is not null).ToList();
        return new EvaluationSummary(protocol.Benchmark, overall, sections, subsets, missing, examples.Count, scoredExamples.Count, scored.Count, errors,
            PositionBiasOf(scored), LengthBiasOf(scored), AccuracyOf(scored, scoredExamples), intervals);
    }

    /// <summary>A judgment: one example in one order with one seed.</summary>
    private sealed record Judgment(EvaluationExample Example, Position? ChosenPosition, int Repeat, double? Score, bool Unresolved, bool Tied);

    private static List<Judgment> Judgments(IEnumerable<EvaluationOutcome> outcomes, Dictionary<string, EvaluationExample> examples,
        bool rewardBench, bool excludeUnresolved, out int parseErrors)
    {
        var errors = 0;
        var result = new List<Judgment>();
        foreach (var group in outcomes.GroupBy(o => (o.ExampleKey, o.ChosenPosition, o.Repeat)))
        {
            if (!examples.TryGetValue(group.Key.ExampleKey, out var example))
                throw new ArgumentException($"An outcome names example '{group.Key.ExampleKey}', which is not in the set.", nameof(outcomes));
            var external = group.Where(o => o.Score is not null).ToList();
            if (external.Count > 0)
            {
                foreach (var o in external)
                {
                    if (o.Score is not { } s || double.IsNaN(s) || s is < 0 or > 1)
                        throw new ArgumentException($"Example '{o.ExampleKey}' has score {o.Score}; scores are between 0 and 1.", nameof(outcomes));
                    result.Add(new Judgment(example, o.ChosenPosition, o.Repeat, s, false, false));
                }
                continue;
            }
            var verdicts = group.OrderBy(o => o.Sample).Select(o => o.Verdict ?? Verdict.Invalid).ToList();
            errors += verdicts.Count(v => v == Verdict.Invalid);
            var (verdict, tied) = Majority(verdicts);
            double? score;
            if (verdict is null) score = excludeUnresolved ? null : rewardBench ? 0.5 : 0;
            else if (group.Key.ChosenPosition is not { } chosen) throw new ArgumentException($"An outcome of '{group.Key.ExampleKey}' has a verdict but no chosen position.", nameof(outcomes));
            else score = (verdict == Verdict.A) == (chosen == Position.A) ? 1 : 0;
            result.Add(new Judgment(example, group.Key.ChosenPosition, group.Key.Repeat, score, verdict is null, tied));
        }
        parseErrors = errors;
        return result;
    }

    private static CountedScore Mean(IEnumerable<double> scores)
    {
        var list = scores as IReadOnlyCollection<double> ?? scores.ToList();
        return new CountedScore(list.Count == 0 ? null : 100 * list.Average(), list.Count);
    }

    private static double? Difference(CountedScore first, CountedScore second) =>
        first.Score is { } a && second.Score is { } b ? a - b : null;

    private static PositionBias PositionBiasOf(List<Judgment> scored)
    {
        var asA = Mean(scored.Where(j => j.ChosenPosition == Position.A).Select(j => j.Score!.Value));
        var asB = Mean(scored.Where(j => j.ChosenPosition == Position.B).Select(j => j.Score!.Value));
        return new PositionBias(asA, asB, Difference(asA, asB));
    }

    private static LengthBias LengthBiasOf(List<Judgment> scored)
    {
        var longer = Mean(scored.Where(j => j.Example.ChosenLength > j.Example.RejectedLength).Select(j => j.Score!.Value));
        var shorter = Mean(scored.Where(j => j.Example.ChosenLength < j.Example.RejectedLength).Select(j => j.Score!.Value));
        return new LengthBias(longer, shorter, Difference(longer, shorter));
    }

    private static OrderAccuracy AccuracyOf(List<Judgment> scored, List<(EvaluationExample Example, double Score)> examples)
    {
        var ordered = scored.Where(j => j.ChosenPosition is not null).ToList();
        var source = Mean(ordered.Where(j => j.ChosenPosition == j.Example.SourceChosenPosition).Select(j => j.Score!.Value));
        var swapped = Mean(ordered.Where(j => j.ChosenPosition != j.Example.SourceChosenPosition).Select(j => j.Score!.Value));
        var first = Mean(ordered.Where(j => j.ChosenPosition == Position.A).Select(j => j.Score!.Value));
        var second = Mean(ordered.Where(j => j.ChosenPosition == Position.B).Select(j => j.Score!.Value));
        // Correct in both orders of the same seed: both judgments score 1.
        var consistent = Mean(ordered.GroupBy(j => (j.Example.Key, j.Repeat))
            .Where(g => g.Select(j => j.ChosenPosition).Distinct().Count() == 2)
            .Select(g => g.All(j => j.Score == 1) ? 1.0 : 0.0));
        return new OrderAccuracy(source, swapped, first, second, Mean(examples.Select(e => e.Score)), consistent);
    }

    private static EvaluationIntervals Intervals(EvaluationProtocol protocol, List<(EvaluationExample Example, double Score)> examples, bool complete)
    {
        var empty = new Dictionary<string, ScoreInterval>(StringComparer.Ordinal);
        if (protocol.Resamples < 2 || examples.Count < 2) return new EvaluationIntervals(null, empty, protocol.BootstrapSeed);
        var scores = examples.Select(e => (Subset: e.Example.Subset ?? "", e.Score)).ToList();
        if (protocol.Benchmark == BenchmarkKind.RewardBench)
        {
            if (!complete) return new EvaluationIntervals(null, empty, protocol.BootstrapSeed);
            var rb = RewardBenchBootstrap.Intervals(scores, protocol.BootstrapSeed, protocol.Resamples);
            return new EvaluationIntervals(rb.Overall, rb.Sections, protocol.BootstrapSeed);
        }
        return new EvaluationIntervals(MeanBootstrap.Interval(scores, protocol.BootstrapSeed, protocol.Resamples), empty, protocol.BootstrapSeed);
    }
}
