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

/// <summary>Optional overrides of a <c>build-training-set</c> run; omitted fields take the experiment's training settings.</summary>
public sealed record BuildTrainingSetRequest
{
    /// <summary>Rows estimated longer than this many tokens are flagged (experiment default: 4,096).</summary>
    public int? MaxLengthTokens { get; init; }

    /// <summary>Leave over-long rows out instead of only flagging them (experiment default: false).</summary>
    public bool? ExcludeOverMaxLength { get; init; }
}

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

    /// <summary>
    /// What building iteration <paramref name="iteration"/>'s training set costs: no model calls; its items are the
    /// kept judgments of pairs not held out.
    /// </summary>
    /// <exception cref="ExperimentStageException">No such experiment or iteration.</exception>
    public async Task<CostEstimate> EstimateBuildTrainingSetAsync(long experimentId, int iteration, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await FindAsync(db, experimentId, cancellationToken);
        var found = await FindIterationAsync(db, experimentId, iteration, cancellationToken);
        var kept = await db.Annotations.CountAsync(a => a.IterationId == found.Id && a.Status == AnnotationStatus.Kept && !a.Pair!.HeldOut, cancellationToken);
        var heldOut = await db.Annotations.CountAsync(a => a.IterationId == found.Id && a.Pair!.HeldOut, cancellationToken);
        return new CostEstimate(0, 0, 0, kept,
        [
            "Building a training set calls no model: it reads the stored judgments and writes files.",
            $"{kept:N0} kept judgments of pairs not held out; {heldOut:N0} annotations of held-out pairs stay out.",
            "Labels are balanced by truncation, so the set holds at most twice the smaller label's count.",
        ]);
    }

    /// <summary>
    /// Starts the <c>build-training-set</c> stage of iteration <paramref name="iteration"/>: the settings are the
    /// experiment's training settings with <paramref name="request"/>'s fields, where given, in their place. A build
    /// replaces the iteration's previous training set when it completes.
    /// </summary>
    /// <returns>The stage run.</returns>
    /// <exception cref="ExperimentStageException">
    /// Why it cannot start: no such experiment or iteration (not found); the iteration is not judged, its judge run is
    /// unfinished, a model trained on its set is registered, there is nothing to train on, or a build is running
    /// (conflict); bad settings (bad request). Nothing was changed.
    /// </exception>
    public async Task<StageRun> StartBuildTrainingSetAsync(long experimentId, int iteration, BuildTrainingSetRequest? request = null,
        CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var experiment = await FindAsync(db, experimentId, cancellationToken);
        var found = await FindIterationAsync(db, experimentId, iteration, cancellationToken);
        var training = ExperimentSettings.FromJson(experiment.SettingsJson).Training ?? new TrainingSettings();
        var settings = new TrainingSetBuildSettings
        {
            MaxLengthTokens = request?.MaxLengthTokens ?? training.MaxLengthTokens,
            ExcludeOverMaxLength = request?.ExcludeOverMaxLength ?? training.ExcludeOverMaxLength,
        };
        if (settings.Problems() is { Count: > 0 } problems) throw new ExperimentStageException(string.Join(" ", problems));

        var judging = await db.StageRuns.AsNoTracking()
            .Where(r => r.IterationId == found.Id && r.Kind == StageKind.Judge && Unfinished.Contains(r.Status))
            .Select(r => new { r.Id, r.Status }).FirstOrDefaultAsync(cancellationToken);
        if (judging is not null)
            throw new ExperimentStageException(
                $"Iteration {iteration} of experiment {experimentId} is still being judged (stage run {judging.Id} is {judging.Status.ToString().ToLowerInvariant()}); let it finish first.", conflict: true);
        if (found.Status is IterationStatus.Created or IterationStatus.Judging)
            throw new ExperimentStageException(
                $"Iteration {iteration} of experiment {experimentId} has not been judged completely (status {found.Status}): some of its pairs have no judgment yet. Run its judge stage, or retry its failed pairs on the Jobs page, until every pair is judged.", conflict: true);
        var models = await db.CandidateModels.CountAsync(m => m.IterationId == found.Id, cancellationToken);
        if (models > 0)
            throw new ExperimentStageException(
                $"Iteration {iteration} of experiment {experimentId} has {models} registered model(s) trained on its training set; rebuilding would change the data they were trained on. Start a new experiment instead.", conflict: true);
        try
        {
            await BuildTrainingSetStage.EnsureSomethingToTrainOnAsync(db, found.Id, iteration, experimentId, cancellationToken);
            return await engine.CreateAsync(StageKind.BuildTrainingSet, settings, experimentId: experimentId, iterationId: found.Id, cancellationToken: cancellationToken);
        }
        catch (StageException ex)
        {
            throw new ExperimentStageException(ex.Message, conflict: true);
        }
    }

    private static async Task<Iteration> FindIterationAsync(SelfTaughtDbContext db, long experimentId, int number, CancellationToken cancellationToken) =>
        await db.Iterations.AsNoTracking().SingleOrDefaultAsync(i => i.ExperimentId == experimentId && i.Number == number, cancellationToken)
        ?? throw new ExperimentStageException($"Experiment {experimentId} has no iteration {number}.", notFound: true);

    private static async Task<Experiment> FindAsync(SelfTaughtDbContext db, long experimentId, CancellationToken cancellationToken) =>
        await db.Experiments.AsNoTracking().SingleOrDefaultAsync(e => e.Id == experimentId, cancellationToken)
        ?? throw new ExperimentStageException($"Experiment {experimentId} does not exist.", notFound: true);
}
