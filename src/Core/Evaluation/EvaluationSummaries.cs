using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Stages;

namespace SelfTaught.Core.Evaluation;

/// <summary>An evaluation run's scores computed from what is stored: its examples and per-example results.</summary>
public static class EvaluationSummaries
{
    /// <summary>The seeds of a run's repetitions: <see cref="EvaluationRun.SeedsJson"/>, else its one seed.</summary>
    public static IReadOnlyList<long> SeedsOf(EvaluationRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var seeds = string.IsNullOrEmpty(run.SeedsJson) ? null : JsonSerializer.Deserialize<List<long>>(run.SeedsJson);
        return seeds is { Count: > 0 } ? seeds : [run.Seed];
    }

    /// <summary>The stored summary of a run, or null when it has none yet.</summary>
    public static EvaluationSummary? Read(EvaluationRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return string.IsNullOrEmpty(run.SummaryJson) ? null : JsonSerializer.Deserialize<EvaluationSummary>(run.SummaryJson, StageJson.Options);
    }

    /// <summary>Scores the results stored for <paramref name="run"/> so far (a running evaluation gets partial scores).</summary>
    public static async Task<EvaluationSummary> ComputeAsync(SelfTaughtDbContext db, EvaluationRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(run);
        var set = await EvaluationSets.LoadAsync(db, run, null, null, cancellationToken);
        var results = await db.EvaluationResults.AsNoTracking().Where(r => r.EvaluationRunId == run.Id)
            .Select(r => new { r.ExampleKey, r.ChosenPosition, r.SampleIndex, r.Verdict, r.Score })
            .ToListAsync(cancellationToken);
        var samples = Math.Max(1, run.Samples);
        var outcomes = results.Select(r => run.Imported && r.Verdict is null
            // An imported score with no verdict: used as it is, in no order.
            ? new EvaluationOutcome(r.ExampleKey, null, 0, 0, null, r.Score)
            : new EvaluationOutcome(r.ExampleKey, r.ChosenPosition, r.SampleIndex / samples, r.SampleIndex % samples, r.Verdict ?? Verdict.Invalid));
        var options = EvaluationOptions.FromJson(run.OptionsJson);
        var protocol = new EvaluationProtocol(run.Benchmark, options.ExcludeParseErrors && run.Benchmark != BenchmarkKind.RewardBench, run.Seed);
        return EvaluationScoring.Summarize(protocol, set.Items.Select(i => i.Example).ToList(), outcomes) with { Filtered = set.Filtered };
    }

    /// <summary>Computes and stores the scores of a run whose results are complete, and marks it completed. Idempotent.</summary>
    public static async Task StoreAsync(SelfTaughtDbContext db, long evaluationRunId, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var run = await db.EvaluationRuns.AsNoTracking().SingleAsync(e => e.Id == evaluationRunId, cancellationToken);
        var summary = await ComputeAsync(db, run, cancellationToken);
        var json = JsonSerializer.Serialize(summary, StageJson.Options);
        await db.EvaluationRuns.Where(e => e.Id == evaluationRunId).ExecuteUpdateAsync(u => u
            .SetProperty(e => e.SummaryJson, json)
            .SetProperty(e => e.Status, StageStatus.Completed)
            .SetProperty(e => e.CompletedAt, now), cancellationToken);
    }
}
