using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Judging;
using SelfTaught.Core.Models;
using SelfTaught.Core.Prompts;
using SelfTaught.Core.Stages;
using static System.FormattableString;

namespace SelfTaught.Core.Experiments;

/// <summary>Overrides of an iteration's judging settings when its judge stage starts; null keeps the iteration's value.</summary>
/// <param name="Samples">N.</param>
/// <param name="Temperature">Sampling temperature.</param>
/// <param name="TopP">Nucleus sampling.</param>
/// <param name="MaxTokens">Token limit of each judgment.</param>
/// <param name="EarlyStop">Early-stop sampling.</param>
/// <param name="FullNShare">Share of pairs judged with all N samples under early stop.</param>
/// <param name="FullNMinimum">Minimum number of such pairs.</param>
/// <param name="EarlyStopBatch">Samples drawn at once under early stop.</param>
/// <param name="BatchSamples">Use <c>n</c> where the endpoint accepts it.</param>
public sealed record JudgeOverrides(int? Samples = null, double? Temperature = null, double? TopP = null, int? MaxTokens = null,
    bool? EarlyStop = null, double? FullNShare = null, int? FullNMinimum = null, int? EarlyStopBatch = null, bool? BatchSamples = null)
{
    /// <summary><paramref name="settings"/> with these overrides applied.</summary>
    public JudgingSettings ApplyTo(JudgingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings with
        {
            Samples = Samples ?? settings.Samples,
            Temperature = Temperature ?? settings.Temperature,
            TopP = TopP ?? settings.TopP,
            MaxTokens = MaxTokens ?? settings.MaxTokens,
            EarlyStop = EarlyStop ?? settings.EarlyStop,
            FullNShare = FullNShare ?? settings.FullNShare,
            FullNMinimum = FullNMinimum ?? settings.FullNMinimum,
            EarlyStopBatch = EarlyStopBatch ?? settings.EarlyStopBatch,
            BatchSamples = BatchSamples ?? settings.BatchSamples,
        };
    }

    /// <summary>True when no value is overridden.</summary>
    public bool IsEmpty => this == new JudgeOverrides();
}

/// <summary>A checkpoint to register as a candidate model of an iteration.</summary>
/// <param name="Name">Display name, e.g. "iteration 1, step 400".</param>
/// <param name="Model">Model name as the server knows it (an Ollama model created from the checkpoint, a vLLM LoRA name).</param>
/// <param name="Endpoint">Endpoint that serves it; null for any endpoint serving the model.</param>
/// <param name="Checkpoint">Training step of the checkpoint, if known.</param>
/// <param name="Notes">Free text (training command, data file used).</param>
public sealed record CandidateRegistration(string Name, string Model, string? Endpoint = null, int? Checkpoint = null, string? Notes = null);

/// <summary>
/// An experiment's iterations: judging (the judge stage with its cost estimate), candidate models (trained
/// checkpoints registered by the user) and the choice of M_i, which creates iteration i+1 judged by it.
/// </summary>
public sealed class IterationService(IDbContextFactory<SelfTaughtDbContext> contexts, StageEngine engine, IModelResolver models, TimeProvider time)
{
    private static readonly StageStatus[] Unfinished = [StageStatus.Queued, StageStatus.Running, StageStatus.Paused, StageStatus.Cancelling];

    /// <summary>What judging iteration <paramref name="number"/> would cost with <paramref name="overrides"/>: calls and tokens over the pairs not judged yet.</summary>
    /// <exception cref="ExperimentStageException">Unknown experiment or iteration, or invalid settings.</exception>
    public async Task<CostEstimate> EstimateJudgeAsync(long experimentId, int number, JudgeOverrides? overrides = null, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var iteration = await FindIterationAsync(db, experimentId, number, cancellationToken);
        var judging = Judging(iteration, overrides);
        var notes = new List<string>();
        var acceptsN = false;
        try
        {
            acceptsN = models.Resolve(new ModelReference(iteration.JudgeModel, iteration.JudgeEndpoint)).Capabilities.AcceptsN;
        }
        catch (ModelResolutionException ex)
        {
            notes.Add($"The judge cannot be reached now ({ex.Message}); assuming one sample per request.");
        }
        var choices = judging.BatchSamples && acceptsN ? judging.MaxChoicesPerRequest : 1;

        var pending = JudgeStage.EligiblePairs(db, experimentId)
            .Where(p => !db.Annotations.Any(a => a.IterationId == iteration.Id && a.PairId == p.Id));
        var pairs = await pending.CountAsync(cancellationToken);
        var characters = await pending.SumAsync(p => (long?)(p.Prompt.Length + p.Chosen!.Length + p.Rejected!.Length), cancellationToken) ?? 0;
        var template = iteration.JudgeTemplateId is { } templateId
            ? await db.PromptTemplates.AsNoTracking().Where(t => t.Id == templateId).Select(t => (t.SystemText ?? "").Length + t.UserText.Length).SingleOrDefaultAsync(cancellationToken)
            : (PromptLibrary.Get(PromptLibrary.JudgePairwise).SystemText ?? "").Length + PromptLibrary.Get(PromptLibrary.JudgePairwise).UserText.Length;
        var callsPerPair = (long)Math.Ceiling(judging.Samples / (double)choices);
        var promptTokensOncePerPair = CostEstimate.EstimateTokens(characters + (long)template * pairs);
        if (judging.EarlyStop)
        {
            var fullN = JudgePlan.FullNSubsampleSize(pairs, judging.FullNShare, judging.FullNMinimum);
            notes.Add(Invariant($"Early stop: {fullN:N0} pairs are judged with all {judging.Samples} samples; the others stop at their first correct sample, so the counts are upper bounds. At a per-sample accuracy of 0.6 a pair needs about {JudgePlan.ExpectedEarlyStopSamples(0.6, judging.Samples):0.0} samples instead of {judging.Samples}."));
        }
        notes.Add(choices > 1
            ? Invariant($"Up to {choices} samples per request (the endpoint accepts n), so each prompt is processed once per request.")
            : "One sample per request: the prompt is sent with every sample.");
        notes.Add(Invariant($"Prompt tokens are estimated at {CostEstimate.CharactersPerToken} characters per token."));
        return new CostEstimate(pairs * callsPerPair, promptTokensOncePerPair * callsPerPair, (long)pairs * judging.Samples * judging.MaxTokens, pairs, notes);
    }

    /// <summary>
    /// Starts the judge stage of iteration <paramref name="number"/>. Overrides are allowed only before the iteration
    /// has judged anything, so one iteration's samples all share their settings; a later run judges only the pairs
    /// made since.
    /// </summary>
    /// <exception cref="ExperimentStageException">Why it cannot start (unknown experiment/iteration, no pairs, a run in progress, changed settings).</exception>
    public async Task<StageRun> StartJudgeAsync(long experimentId, int number, JudgeOverrides? overrides = null, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var iteration = await FindIterationAsync(db, experimentId, number, cancellationToken);
        var judging = Judging(iteration, overrides);
        if (await db.StageRuns.AnyAsync(r => r.ExperimentId == experimentId && r.Kind == StageKind.GeneratePairs && Unfinished.Contains(r.Status), cancellationToken))
            throw new ExperimentStageException($"Pairs of experiment {experimentId} are still being generated; judge them when that run has finished.", conflict: true);
        if (await db.StageRuns.AnyAsync(r => r.IterationId == iteration.Id && r.Kind == StageKind.Judge && Unfinished.Contains(r.Status), cancellationToken))
            throw new ExperimentStageException($"Iteration {number} is already being judged; wait for that run or cancel it.", conflict: true);
        if (!await JudgeStage.EligiblePairs(db, experimentId).AnyAsync(cancellationToken))
            throw new ExperimentStageException($"Experiment {experimentId} has no ready pairs to judge (held-out pairs are never judged for training); generate pairs first.", conflict: true);
        var annotated = await db.Annotations.AnyAsync(a => a.IterationId == iteration.Id, cancellationToken);
        if (annotated && overrides is { IsEmpty: false } && judging != ExperimentSettings.FromJson(iteration.SettingsJson).Judging)
            throw new ExperimentStageException(
                $"Iteration {number} already has judgments made with its settings; a new run continues with them (only pairs not judged yet are judged). Start it without overrides.", conflict: true);
        if (!annotated)
        {
            var stored = ExperimentSettings.FromJson(iteration.SettingsJson);
            iteration.SettingsJson = (stored with { Judging = judging }).ToJson();
            iteration.SamplesPerPair = judging.Samples;
            iteration.EarlyStop = judging.EarlyStop;
        }
        if (iteration.JudgeTemplateId is null)
            iteration.JudgeTemplateId = (await PromptTemplateStore.EnsureBuiltInAsync(db, PromptLibrary.JudgePairwise, time.GetUtcNow().UtcDateTime, cancellationToken)).Id;
        if (iteration.Status == IterationStatus.Created) iteration.Status = IterationStatus.Judging;
        await db.SaveChangesAsync(cancellationToken);
        return await engine.CreateAsync(StageKind.Judge, new JudgeRunSettings(iteration.JudgeModel, iteration.JudgeEndpoint, judging),
            experimentId: experimentId, iterationId: iteration.Id, cancellationToken: cancellationToken);
    }

    /// <summary>The judging statistics of an iteration: stored when its judge run completed, else computed now from what is stored.</summary>
    public async Task<JudgingStatistics> JudgingStatisticsAsync(long experimentId, int number, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var iteration = await FindIterationAsync(db, experimentId, number, cancellationToken);
        return await IterationStatistics.ComputeJudgingAsync(db, iteration.Id, cancellationToken);
    }

    /// <summary>Registers a trained checkpoint as a candidate model of iteration <paramref name="number"/>.</summary>
    /// <exception cref="ExperimentStageException">Unknown experiment/iteration, a field missing, or the same model registered twice.</exception>
    public async Task<CandidateModel> RegisterCandidateAsync(long experimentId, int number, CandidateRegistration registration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(registration.Name)) problems.Add("name is required.");
        if (string.IsNullOrWhiteSpace(registration.Model)) problems.Add("model is required.");
        if (registration.Name?.Length > 200) problems.Add("name must be at most 200 characters.");
        if (registration.Checkpoint is < 0) problems.Add("checkpoint must not be negative.");
        if (problems.Count > 0) throw new ExperimentStageException(string.Join(" ", problems));
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var iteration = await FindIterationAsync(db, experimentId, number, cancellationToken);
        var model = registration.Model!.Trim();
        var endpoint = string.IsNullOrWhiteSpace(registration.Endpoint) ? null : registration.Endpoint.Trim();
        if (await db.CandidateModels.AnyAsync(c => c.IterationId == iteration.Id && c.Model == model && c.Endpoint == endpoint, cancellationToken))
            throw new ExperimentStageException($"{new ModelReference(model, endpoint)} is already a candidate of iteration {number}.", conflict: true);
        var candidate = new CandidateModel
        {
            IterationId = iteration.Id,
            Name = registration.Name!.Trim(),
            Model = model,
            Endpoint = endpoint,
            Checkpoint = registration.Checkpoint,
            Notes = registration.Notes,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        db.CandidateModels.Add(candidate);
        if (iteration.Status is IterationStatus.TrainingSetBuilt) iteration.Status = IterationStatus.ModelRegistered;
        await db.SaveChangesAsync(cancellationToken);
        return candidate;
    }

    /// <summary>
    /// Marks candidate <paramref name="candidateId"/> as M_i of iteration <paramref name="number"/> and makes iteration
    /// i+1, judged by it (created, or re-pointed while it has not judged anything yet).
    /// </summary>
    /// <returns>Iteration i+1.</returns>
    /// <exception cref="ExperimentStageException">Unknown ids, or iteration i+1 already judged with another model.</exception>
    public async Task<Iteration> ChooseCandidateAsync(long experimentId, int number, long candidateId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var iteration = await FindIterationAsync(db, experimentId, number, cancellationToken);
        var candidate = await db.CandidateModels.SingleOrDefaultAsync(c => c.Id == candidateId && c.IterationId == iteration.Id, cancellationToken)
            ?? throw new ExperimentStageException($"Iteration {number} of experiment {experimentId} has no candidate model {candidateId}.", notFound: true);
        var next = await db.Iterations.SingleOrDefaultAsync(i => i.ExperimentId == experimentId && i.Number == number + 1, cancellationToken);
        if (next is not null && next.JudgeCandidateModelId != candidate.Id)
        {
            if (await db.Annotations.AnyAsync(a => a.IterationId == next.Id, cancellationToken))
                throw new ExperimentStageException(
                    $"Iteration {number + 1} has already been judged by the model chosen before; M_{number} can no longer change.", conflict: true);
            if (await db.StageRuns.AnyAsync(r => r.IterationId == next.Id && r.Kind == StageKind.Judge && Unfinished.Contains(r.Status), cancellationToken))
                throw new ExperimentStageException(
                    $"Iteration {number + 1} is being judged by the model chosen before; cancel that run to choose another M_{number}.", conflict: true);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // One chosen candidate per iteration (a unique filtered index): clear the old choice first.
        await db.CandidateModels.Where(c => c.IterationId == iteration.Id && c.IsChosen && c.Id != candidate.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.IsChosen, false), cancellationToken);
        candidate.IsChosen = true;
        iteration.Status = IterationStatus.Completed;
        var now = time.GetUtcNow().UtcDateTime;
        if (next is null)
        {
            var experiment = await db.Experiments.SingleAsync(e => e.Id == experimentId, cancellationToken);
            next = ExperimentService.NewIteration(experiment, number + 1, new ModelReference(candidate.Model, candidate.Endpoint), candidate.Id, now);
            // The next iteration judges with this iteration's settings (they may have been changed when it started).
            next.SettingsJson = iteration.SettingsJson;
            next.SamplesPerPair = iteration.SamplesPerPair;
            next.EarlyStop = iteration.EarlyStop;
            db.Iterations.Add(next);
        }
        else
        {
            next.JudgeModel = candidate.Model;
            next.JudgeEndpoint = candidate.Endpoint;
            next.JudgeCandidateModelId = candidate.Id;
            // A run of the old model that failed before judging anything leaves nothing behind.
            next.Status = IterationStatus.Created;
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return next;
    }

    private static JudgingSettings Judging(Iteration iteration, JudgeOverrides? overrides)
    {
        var judging = (overrides ?? new JudgeOverrides()).ApplyTo(ExperimentSettings.FromJson(iteration.SettingsJson).Judging);
        if ((new ExperimentSettings { Judging = judging }).Problems() is { Count: > 0 } problems)
            throw new ExperimentStageException(string.Join(" ", problems));
        return judging;
    }

    private static async Task<Iteration> FindIterationAsync(SelfTaughtDbContext db, long experimentId, int number, CancellationToken cancellationToken)
    {
        if (!await db.Experiments.AnyAsync(e => e.Id == experimentId, cancellationToken))
            throw new ExperimentStageException($"Experiment {experimentId} does not exist.", notFound: true);
        return await db.Iterations.SingleOrDefaultAsync(i => i.ExperimentId == experimentId && i.Number == number, cancellationToken)
            ?? throw new ExperimentStageException($"Experiment {experimentId} has no iteration {number}.", notFound: true);
    }
}
