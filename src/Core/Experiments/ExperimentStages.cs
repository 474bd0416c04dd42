using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Stages;

namespace SelfTaught.Core.Experiments;

/// <summary>What a selection would pick, before it runs: it calls no model, so this is its whole cost.</summary>
/// <param name="PoolSize">Instructions in the experiment's pool.</param>
/// <param name="Analyzed">Of those, analyzed (category, complexity, length).</param>
/// <param name="Matching">Instructions passing the filters.</param>
/// <param name="Selected">Instructions the run will check and store: <paramref name="Matching"/> capped at maxCount.</param>
/// <param name="BenchmarkDatasets">Benchmark datasets the contamination check compares with.</param>
/// <param name="BenchmarkPrompts">Their prompts.</param>
/// <param name="ModelCalls">Always 0: selection calls no model.</param>
public sealed record SelectionPreview(int PoolSize, int Analyzed, int Matching, int Selected, int BenchmarkDatasets, int BenchmarkPrompts, int ModelCalls = 0);

/// <summary>A stage cannot start; the message says why (shown as a 400/409 by the API and in the UI).</summary>
public sealed class ExperimentStageException(string message, bool conflict = false, bool notFound = false) : Exception(message)
{
    /// <summary>The experiment's state forbids it (409), rather than the request being malformed (400).</summary>
    public bool Conflict { get; } = conflict;

    /// <summary>The experiment does not exist (404).</summary>
    public bool NotFound { get; } = notFound;
}

/// <summary>Starts an experiment's stages as stage runs, after checking that they make sense now.</summary>
public sealed partial class ExperimentStages(IDbContextFactory<SelfTaughtDbContext> contexts, StageEngine engine, SelectStage select)
{
    private static readonly StageStatus[] Unfinished = [StageStatus.Queued, StageStatus.Running, StageStatus.Paused, StageStatus.Cancelling];

    /// <summary>Counts what <paramref name="settings"/> would select for experiment <paramref name="experimentId"/>.</summary>
    /// <exception cref="ExperimentStageException">No such experiment, or invalid settings.</exception>
    public async Task<SelectionPreview> PreviewSelectAsync(long experimentId, SelectionSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Problems() is { Count: > 0 } problems) throw new ExperimentStageException(string.Join(" ", problems));
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var experiment = await FindAsync(db, experimentId, cancellationToken);
        var pool = db.Instructions.AsNoTracking().Where(i => i.DatasetId == experiment.InstructionDatasetId);
        var poolSize = await pool.CountAsync(cancellationToken);
        var analyzed = await pool.CountAsync(i => i.AnalyzedAt != null, cancellationToken);
        var matching = (await select.ListAsync(experiment.InstructionDatasetId, experiment.Seed, settings with { MaxCount = null })).Count;
        var benchmarks = db.Datasets.AsNoTracking().Where(d => d.Status == DatasetStatus.Ready && d.Role == DatasetRole.Benchmark
            && (settings.BenchmarkDatasetIds.Count == 0 || settings.BenchmarkDatasetIds.Contains(d.Id)));
        return new SelectionPreview(poolSize, analyzed, matching, Math.Min(matching, settings.MaxCount ?? int.MaxValue),
            await benchmarks.CountAsync(cancellationToken), await benchmarks.SumAsync(d => d.RowCount, cancellationToken));
    }

    /// <summary>
    /// Starts the <c>select</c> stage of experiment <paramref name="experimentId"/>. An experiment with a selection
    /// keeps it unless <paramref name="replace"/> is set, and a selection pairs were made from cannot be replaced.
    /// </summary>
    /// <returns>The stage run.</returns>
    /// <exception cref="ExperimentStageException">Why it cannot start; nothing was changed.</exception>
    public async Task<StageRun> StartSelectAsync(long experimentId, SelectionSettings settings, bool replace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Problems() is { Count: > 0 } problems) throw new ExperimentStageException(string.Join(" ", problems));
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await FindAsync(db, experimentId, cancellationToken);
        if (await db.StageRuns.AnyAsync(r => r.ExperimentId == experimentId && r.Kind == StageKind.Select && Unfinished.Contains(r.Status), cancellationToken))
            throw new ExperimentStageException($"Experiment {experimentId} is already selecting instructions; wait for that run or cancel it.", conflict: true);
        var selected = await db.ExperimentInstructions.CountAsync(i => i.ExperimentId == experimentId, cancellationToken);
        if (selected > 0)
        {
            if (!replace)
                throw new ExperimentStageException(
                    $"Experiment {experimentId} already has a selection of {selected:N0} instructions; choose replace to select again.", conflict: true);
            if (await db.Pairs.AnyAsync(p => p.ExperimentId == experimentId && p.InstructionId != null, cancellationToken))
                throw new ExperimentStageException(
                    $"Pairs of experiment {experimentId} were made from its selection, so it can no longer be replaced; create a new experiment instead.", conflict: true);
        }
        if (settings.BenchmarkDatasetIds.Count > 0)
        {
            var missing = settings.BenchmarkDatasetIds.Except(await db.Datasets
                .Where(d => settings.BenchmarkDatasetIds.Contains(d.Id) && d.Status == DatasetStatus.Ready && d.Role == DatasetRole.Benchmark)
                .Select(d => d.Id).ToListAsync(cancellationToken)).ToList();
            if (missing.Count > 0) throw new ExperimentStageException($"benchmarkDatasetIds: {string.Join(", ", missing)} are not benchmark datasets in the database.");
        }
        // Everything is checked: only now is the old selection dropped.
        if (selected > 0) await db.ExperimentInstructions.Where(i => i.ExperimentId == experimentId).ExecuteDeleteAsync(cancellationToken);
        return await engine.CreateAsync(StageKind.Select, settings, experimentId: experimentId, cancellationToken: cancellationToken);
    }

    private static async Task<Experiment> FindAsync(SelfTaughtDbContext db, long experimentId, CancellationToken cancellationToken) =>
        await db.Experiments.AsNoTracking().SingleOrDefaultAsync(e => e.Id == experimentId, cancellationToken)
        ?? throw new ExperimentStageException($"Experiment {experimentId} does not exist.", notFound: true);
}
