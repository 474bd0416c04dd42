using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Pairs;
using SelfTaught.Core.Stages;

namespace SelfTaught.Core.Evaluation;

/// <summary>Protocol options of an evaluation, stored in <see cref="EvaluationRun.OptionsJson"/>.</summary>
/// <param name="Turn">MT-Bench: the turn compared (paper: 1).</param>
/// <param name="JudgePrefixes">MT-Bench: votes kept by their judge id's prefix (default <c>expert</c>; add <c>author</c> to include the authors' votes).</param>
/// <param name="ExcludeParseErrors">Leave judgments without a parsable verdict out of accuracy instead of counting them as disagreement (not used for RewardBench, where they score 0.5).</param>
/// <param name="Weighted">HelpSteer2: the better response by the weighted attribute score [0.65, 0.8, 0.45, 0.55, −0.4] instead of the plain sum.</param>
/// <param name="KeyByRow">Examples are keyed by row position because the set's (subset, id) repeat (set when the run starts).</param>
public sealed record EvaluationOptions(int Turn = 1, IReadOnlyList<string>? JudgePrefixes = null, bool ExcludeParseErrors = false, bool Weighted = false, bool KeyByRow = false)
{
    /// <summary>The prefixes in effect.</summary>
    public IReadOnlyList<string> EffectiveJudgePrefixes => JudgePrefixes is { Count: > 0 } p ? p : ["expert"];

    /// <summary>Reads options stored by a run; defaults when none.</summary>
    public static EvaluationOptions FromJson(string? json) =>
        string.IsNullOrEmpty(json) ? new() : JsonSerializer.Deserialize<EvaluationOptions>(json, StageJson.Options) ?? new();
}

/// <summary>An example of an evaluation run with the texts the judge sees.</summary>
/// <param name="Id">The labeled pair's id (benchmarks, pair sets) or the pair's id (held-out synthetic pairs): the stage's item id.</param>
/// <param name="Key">Stable key of the example (see <see cref="EvaluationSets"/>).</param>
/// <param name="Subset">Subset, or MT-Bench's question category.</param>
/// <param name="Prompt">The instruction.</param>
/// <param name="Chosen">The better response.</param>
/// <param name="Rejected">The other one.</param>
/// <param name="SourceChosenPosition">Where the better response stands in the source's order.</param>
public sealed record EvaluationItem(long Id, string Key, string? Subset, string Prompt, string Chosen, string Rejected, Position SourceChosenPosition)
{
    /// <summary>The example as scoring sees it.</summary>
    public EvaluationExample Example => new(Key, Subset, Chosen.Length, Rejected.Length, SourceChosenPosition);
}

/// <summary>The examples of an evaluation run and what its protocol filtered out.</summary>
/// <param name="Items">Examples, in id order.</param>
/// <param name="Filtered">Rows left out, by reason (MT-Bench ties, other turns and judges; HelpSteer2 equal scores).</param>
public sealed record EvaluationSet(IReadOnlyList<EvaluationItem> Items, IReadOnlyDictionary<string, int> Filtered);

/// <summary>
/// Which rows an evaluation judges and under which keys, per benchmark (DESIGN §1 step 6):
/// RewardBench — every row, keyed <c>subset/id</c> (ids repeat across subsets); MT-Bench — votes of the chosen turn by
/// judges with the chosen prefixes, ties left out, each vote one example keyed <c>question/judge/model_a/model_b</c>;
/// HelpSteer2 — pairs whose better response is defined (plain or weighted sum), equal scores left out and counted;
/// pair sets — rows with a gold label, keyed <c>subset/id</c> (or the row when those repeat); an experiment's held-out
/// synthetic pairs — ready held-out pairs keyed by their stable pair key, y_w being the better response.
/// </summary>
public static class EvaluationSets
{
    /// <summary>Filter reason: MT-Bench tie votes.</summary>
    public const string TieVotes = "tie votes";

    /// <summary>Filter reason: HelpSteer2 pairs with equal scores.</summary>
    public const string EqualScores = "equal scores";

    /// <summary>Filter reason: MT-Bench votes of another turn.</summary>
    public const string OtherTurns = "other turns";

    /// <summary>Filter reason: MT-Bench votes of other judges.</summary>
    public const string OtherJudges = "other judges";

    /// <summary>Filter reason: pairs without a gold label.</summary>
    public const string NoLabel = "no label";

    /// <summary>The run's examples with ids in [<paramref name="firstId"/>, <paramref name="lastId"/>] (all when null), and what was filtered out.</summary>
    public static async Task<EvaluationSet> LoadAsync(SelfTaughtDbContext db, EvaluationRun run, long? firstId, long? lastId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(run);
        var options = EvaluationOptions.FromJson(run.OptionsJson);
        var first = firstId ?? long.MinValue;
        var last = lastId ?? long.MaxValue;
        if (run.DatasetId is null)
        {
            if (run.ExperimentId is null) return new EvaluationSet([], new Dictionary<string, int>());
            var pairs = db.Pairs.AsNoTracking()
                .Where(p => p.ExperimentId == run.ExperimentId && p.HeldOut && p.Status == PairStatus.Ready && p.Chosen != null && p.Rejected != null
                    && p.Id >= first && p.Id <= last)
                .OrderBy(p => p.Id);
            var keys = await PairKeys.Parts(pairs).ToDictionaryAsync(k => k.PairId, k => k.Key, cancellationToken);
            var rows = await pairs.Select(p => new { p.Id, p.Prompt, p.Chosen, p.Rejected, Category = p.Instruction != null ? p.Instruction.Category : null }).ToListAsync(cancellationToken);
            return new EvaluationSet(
                rows.Select(p => new EvaluationItem(p.Id, $"pair {keys[p.Id]}", p.Category, p.Prompt, p.Chosen!, p.Rejected!, Position.A)).ToList(),
                new Dictionary<string, int>());
        }

        var labeled = await db.LabeledPairs.AsNoTracking()
            .Where(p => p.DatasetId == run.DatasetId && p.Id >= first && p.Id <= last)
            .OrderBy(p => p.Id)
            .ToListAsync(cancellationToken);
        var filtered = new Dictionary<string, int>(StringComparer.Ordinal);
        var items = new List<EvaluationItem>(labeled.Count);
        foreach (var row in labeled)
        {
            var (gold, reason) = Gold(run.Benchmark, options, row);
            if (reason is not null)
            {
                filtered[reason] = filtered.GetValueOrDefault(reason) + 1;
                continue;
            }
            var (chosen, rejected) = gold == Position.A ? (row.ResponseA, row.ResponseB) : (row.ResponseB, row.ResponseA);
            items.Add(new EvaluationItem(row.Id, Key(run.Benchmark, options, row), row.Subset, row.Prompt, chosen, rejected, gold));
        }
        return new EvaluationSet(items, filtered);
    }

    /// <summary>The key of a labeled row under a run's benchmark and options.</summary>
    public static string Key(BenchmarkKind benchmark, EvaluationOptions options, LabeledPair row)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(row);
        if (benchmark == BenchmarkKind.MtBench) return $"{row.SourceId}/{row.Judge}/{row.ModelA}/{row.ModelB}";
        if (options.KeyByRow || row.SourceId is null) return $"row {row.RowIndex}";
        return row.Subset is null ? row.SourceId : $"{row.Subset}/{row.SourceId}";
    }

    /// <summary>The position of the better response, or why the row is not an example of the benchmark.</summary>
    private static (Position Gold, string? Reason) Gold(BenchmarkKind benchmark, EvaluationOptions options, LabeledPair row)
    {
        if (benchmark == BenchmarkKind.MtBench)
        {
            if (row.Turn != options.Turn) return (default, OtherTurns);
            if (row.Judge is null || !options.EffectiveJudgePrefixes.Any(p => row.Judge.StartsWith(p, StringComparison.Ordinal))) return (default, OtherJudges);
            if (row.Gold == GoldLabel.Tie) return (default, TieVotes);
        }
        if (benchmark == BenchmarkKind.HelpSteer2)
        {
            var a = HelpSteer2Scores.FromJson(row.AttributeScoresAJson);
            var b = HelpSteer2Scores.FromJson(row.AttributeScoresBJson);
            var label = a is null || b is null ? row.Gold
                : options.Weighted ? HelpSteer2Scores.PreferByWeight(a, b) : HelpSteer2Scores.PreferBySum(a, b);
            return label == GoldLabel.Tie ? (default, EqualScores) : (label == GoldLabel.A ? Position.A : Position.B, null);
        }
        return row.Gold switch
        {
            GoldLabel.A => (Position.A, null),
            GoldLabel.B => (Position.B, null),
            _ => (default, benchmark == BenchmarkKind.MtBench ? TieVotes : NoLabel),
        };
    }
}
