using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Judging;
using SelfTaught.Core.Training;
using static System.FormattableString;

namespace SelfTaught.Core.Stages;

/// <summary>Settings of a <c>build-training-set</c> run, resolved from the experiment's training settings when it starts.</summary>
public sealed record TrainingSetBuildSettings
{
    /// <summary>Rows estimated longer than this many tokens are flagged. Default 4,096 (paper).</summary>
    public int MaxLengthTokens { get; init; } = 4_096;

    /// <summary>Leave over-long rows out (before balancing) instead of only flagging them. Default false.</summary>
    public bool ExcludeOverMaxLength { get; init; }

    /// <summary>Every problem with these settings, each naming its field; empty when they are valid.</summary>
    public IReadOnlyList<string> Problems() =>
        MaxLengthTokens < 1 ? [Invariant($"maxLengthTokens must be positive, not {MaxLengthTokens}.")] : [];
}

/// <summary>
/// An iteration's <c>build-training-set</c> stage (DESIGN §1 step 4): one item, the iteration. It plans the set from the
/// iteration's kept judgments of pairs not held out (<see cref="TrainingSetPlanner"/>), writes <c>sft.jsonl</c>,
/// <c>dpo.jsonl</c>, <c>openai.jsonl</c> and <c>manifest.json</c> under <see cref="TrainingExportOptions.Folder"/>, and
/// stores the SFT and DPO <see cref="TrainingSet"/>s with their members, replacing an earlier build of the iteration.
/// The iteration becomes <see cref="IterationStatus.TrainingSetBuilt"/> and its statistics gain a <c>training</c> part.
/// </summary>
public sealed class BuildTrainingSetStage(IDbContextFactory<SelfTaughtDbContext> contexts, IOptions<TrainingExportOptions> options, TimeProvider time) : IStage
{
    /// <summary>Rows whose texts are loaded from the database at once while writing the files.</summary>
    private const int TextBatch = 500;

    /// <inheritdoc />
    public StageKind Kind => StageKind.BuildTrainingSet;

    /// <inheritdoc />
    public async Task<IStageExecution> PrepareAsync(SelfTaughtDbContext db, StageRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(run);
        var settings = JsonSerializer.Deserialize<TrainingSetBuildSettings>(run.SettingsJson, StageJson.Options)
            ?? throw new StageException("The run has no settings.");
        if (settings.Problems() is { Count: > 0 } problems) throw new StageException(string.Join(" ", problems));
        var iteration = await db.Iterations.AsNoTracking().Where(i => i.Id == run.IterationId)
            .Select(i => new { i.Id, i.ExperimentId, i.Number }).SingleOrDefaultAsync(cancellationToken)
            ?? throw new StageException($"Iteration {run.IterationId} does not exist.");
        await EnsureSomethingToTrainOnAsync(db, iteration.Id, iteration.Number, iteration.ExperimentId, cancellationToken);
        return new Execution(this, run.Id, iteration.Id, settings);
    }

    /// <summary>
    /// Throws a <see cref="StageException"/> that says why when the iteration has nothing to train on: no kept judgment
    /// of a pair that is not held out, or kept judgments of one gold label only (balancing would leave none).
    /// </summary>
    public static async Task EnsureSomethingToTrainOnAsync(SelfTaughtDbContext db, long iterationId, int number, long experimentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var statuses = await db.Annotations.AsNoTracking().Where(a => a.IterationId == iterationId)
            .GroupBy(a => new { a.Status, a.Pair!.HeldOut }).Select(g => new { g.Key.Status, g.Key.HeldOut, Count = g.Count() }).ToListAsync(cancellationToken);
        var usable = await UsableKept(db, iterationId).GroupBy(a => a.Gold).Select(g => new { Gold = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        int Count(AnnotationStatus status) => statuses.Where(s => !s.HeldOut && s.Status == status).Sum(s => s.Count);
        var kept = Count(AnnotationStatus.Kept);
        if (usable.Sum(u => u.Count) == 0)
        {
            var total = statuses.Sum(s => s.Count);
            throw new StageException(total == 0
                ? Invariant($"Iteration {number} of experiment {experimentId} has nothing to train on: it has no annotations. Run the judge stage first.")
                : Invariant($"Iteration {number} of experiment {experimentId} has nothing to train on: of {total:N0} annotations, none is a kept judgment of a pair that is not held out ") +
                  Invariant($"({kept:N0} kept, {Count(AnnotationStatus.Dropped):N0} dropped for having no correct sample, {Count(AnnotationStatus.Failed):N0} failed, ") +
                  Invariant($"{Count(AnnotationStatus.Pending):N0} pending, {statuses.Where(s => s.HeldOut).Sum(s => s.Count):N0} of held-out pairs)") +
                  (kept > 0 ? "; the kept judgments' samples are missing or not correct." : "."));
        }
        if (usable.Count == 1)
        {
            var only = usable[0];
            throw new StageException(Invariant($"Iteration {number} of experiment {experimentId} has nothing to train on after balancing: all {only.Count:N0} kept judgments have gold label {only.Gold}, and truncating to the other label's 0 leaves none."));
        }
    }

    /// <summary>Kept annotations of pairs not held out whose kept sample is stored, correct and has text.</summary>
    public static IQueryable<Annotation> UsableKept(SelfTaughtDbContext db, long iterationId)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Annotations.AsNoTracking().Where(a => a.IterationId == iterationId && a.Status == AnnotationStatus.Kept && !a.Pair!.HeldOut
            && db.JudgmentSamples.Any(s => s.AnnotationId == a.Id && s.SampleIndex == a.KeptSampleIndex && s.Correct == true && s.RawCompletion != null));
    }

    /// <summary>What <see cref="Execution.ProcessAsync"/> built, for <see cref="Execution.WriteAsync"/> to store.</summary>
    private sealed record Built(long ExperimentId, int Iteration, TrainingPlan Plan, string ManifestJson, IReadOnlyList<WrittenFile> Files, string Staging, string Target);

    private sealed class Execution(BuildTrainingSetStage stage, long runId, long iterationId, TrainingSetBuildSettings settings) : IStageExecution
    {
        public int Parallelism => 1;

        public Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<long>>([iterationId]);

        public Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, long firstItemId, long lastItemId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<long>>(iterationId >= firstItemId && iterationId <= lastItemId ? [iterationId] : []);

        public async Task<IReadOnlySet<long>> StoredAsync(SelfTaughtDbContext db, IReadOnlyCollection<long> items, CancellationToken cancellationToken) =>
            items.Contains(iterationId) && await db.TrainingSets.AnyAsync(t => t.IterationId == iterationId && t.StageRunId == runId, cancellationToken)
                ? new HashSet<long> { iterationId }
                : new HashSet<long>();

        public async Task<ItemOutcome> ProcessAsync(long itemId, CancellationToken cancellationToken)
        {
            try
            {
                return new ItemOutcome(itemId, null, 0, 0, await stage.BuildAsync(runId, itemId, settings, cancellationToken));
            }
            catch (StageException ex)
            {
                return new ItemOutcome(itemId, ex.Message, 0, 0, null);
            }
        }

        public async Task WriteAsync(SelfTaughtDbContext db, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken)
        {
            foreach (var built in outcomes.Select(o => o.Result).OfType<Built>())
                await stage.StoreAsync(db, runId, iterationId, built, cancellationToken);
        }
    }

    /// <summary>Where the pairs judged in the iteration came from, for the manifest.</summary>
    private async Task<ManifestPairs> PairProvenanceAsync(long experimentId, long iterationId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var judged = db.Annotations.AsNoTracking().Where(a => a.IterationId == iterationId && !a.Pair!.HeldOut).Select(a => a.Pair!);
        var generators = await judged.Where(p => p.GeneratorModel != null).Select(p => p.GeneratorModel!).Distinct().ToListAsync(cancellationToken);
        var methods = await judged.GroupBy(p => p.Method).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var templateIds = (await judged.Select(p => p.TemplateId).Distinct().ToListAsync(cancellationToken))
            .Concat(await judged.Select(p => p.ResponseTemplateId).Distinct().ToListAsync(cancellationToken)).OfType<long>().ToHashSet();
        var templates = await db.PromptTemplates.AsNoTracking().Where(t => templateIds.Contains(t.Id)).OrderBy(t => t.Id)
            .Select(t => new ManifestTemplate(t.Id, t.Key, t.Version, t.ContentHash)).ToListAsync(cancellationToken);
        var settingsJson = await db.Experiments.AsNoTracking().Where(e => e.Id == experimentId).Select(e => e.SettingsJson).SingleAsync(cancellationToken);
        var heldOut = await db.Pairs.AsNoTracking().CountAsync(p => p.ExperimentId == experimentId && p.HeldOut, cancellationToken);
        return new ManifestPairs([.. generators.Order(StringComparer.Ordinal)],
            new SortedDictionary<string, int>(methods.ToDictionary(m => m.Key.ToString(), m => m.Count), StringComparer.Ordinal),
            templates, ExperimentSettings.FromJson(settingsJson).Generation.HeldOutShare, heldOut);
    }

    private async Task<Built> BuildAsync(long runId, long iterationId, TrainingSetBuildSettings settings, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var iteration = await db.Iterations.AsNoTracking().Where(i => i.Id == iterationId)
            .Select(i => new { i.Id, i.ExperimentId, i.Number, i.Seed, i.JudgeModel, i.JudgeEndpoint, i.JudgeTemplateId, i.SamplesPerPair, i.EarlyStop, ExperimentSeed = i.Experiment!.Seed })
            .SingleOrDefaultAsync(cancellationToken) ?? throw new StageException($"Iteration {iterationId} does not exist.");

        // Seeded choices are keyed by each pair's stable key (method and source row), as in judging.
        var keys = await PairKeys.Parts(db.Pairs.AsNoTracking().Where(p => p.ExperimentId == iteration.ExperimentId)).ToDictionaryAsync(k => k.PairId, k => k.Key, cancellationToken);
        // Metadata and text lengths only: the texts of the rows chosen are read in batches while the files are written.
        var annotations = await db.Annotations.AsNoTracking().Where(a => a.IterationId == iterationId)
            .Select(a => new { a.Id, a.PairId, a.Pair!.HeldOut, a.Status, a.Gold, PromptLength = a.JudgePrompt.Length, a.TemplateId, a.KeptSampleIndex, a.FullN })
            .ToListAsync(cancellationToken);
        var samples = (await db.JudgmentSamples.AsNoTracking().Where(s => s.IterationId == iterationId)
                .Select(s => new { s.AnnotationId, s.Id, s.SampleIndex, s.Verdict, s.Correct, Length = s.RawCompletion == null ? (int?)null : s.RawCompletion.Length, s.Model, s.Endpoint, s.Temperature, s.TopP, s.MaxTokens })
                .ToListAsync(cancellationToken))
            .ToLookup(s => s.AnnotationId, s => new SampleInfo(s.Id, s.SampleIndex, s.Verdict, s.Correct, s.Length, s.Model, s.Endpoint, s.Temperature, s.TopP, s.MaxTokens));
        var infos = annotations.Select(a => new AnnotationInfo(a.Id, keys[a.PairId], a.HeldOut, a.Status, a.Gold, a.PromptLength,
            a.TemplateId ?? iteration.JudgeTemplateId, a.KeptSampleIndex, a.FullN, [.. samples[a.Id]])).ToList();
        var templateIds = infos.Select(a => a.TemplateId).OfType<long>().Distinct().ToList();
        var templates = await db.PromptTemplates.AsNoTracking().Where(t => templateIds.Contains(t.Id))
            .Select(t => new TemplateInfo(t.Id, t.Key, t.Version, t.ContentHash, t.SystemText)).ToDictionaryAsync(t => t.Id, cancellationToken);

        var pairProvenance = await PairProvenanceAsync(iteration.ExperimentId, iteration.Id, cancellationToken);
        var plan = TrainingSetPlanner.Plan(new TrainingSetInput
        {
            ExperimentId = iteration.ExperimentId, Iteration = iteration.Number, ExperimentSeed = iteration.ExperimentSeed, IterationSeed = iteration.Seed,
            JudgeModel = iteration.JudgeModel, JudgeEndpoint = iteration.JudgeEndpoint, SamplesPerPair = iteration.SamplesPerPair, EarlyStop = iteration.EarlyStop,
            MaxLengthTokens = settings.MaxLengthTokens, ExcludeOverMaxLength = settings.ExcludeOverMaxLength, Annotations = infos, Templates = templates,
        });
        if (plan.Sft.Count == 0)
            throw new StageException(Invariant($"Iteration {iteration.Number} of experiment {iteration.ExperimentId} has nothing to train on: ") + Invariant(
                $"{plan.SftCounts.Candidates:N0} usable kept judgments, {plan.SftCounts.ExcludedOverMaxLength:N0} left out for exceeding {settings.MaxLengthTokens:N0} tokens, gold A {plan.SftCounts.GoldABeforeBalancing:N0} / gold B {plan.SftCounts.GoldBBeforeBalancing:N0} before balancing."));

        var target = options.Value.IterationFolder(iteration.ExperimentId, iteration.Number);
        var staging = target + Invariant($".staging-{runId}");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            IReadOnlyList<WrittenFile> files;
            await using (var sft = File.Create(Path.Combine(staging, TrainingFiles.Sft)))
            await using (var dpo = File.Create(Path.Combine(staging, TrainingFiles.Dpo)))
            await using (var openAi = File.Create(Path.Combine(staging, TrainingFiles.OpenAi)))
            {
                using var writer = new TrainingSetWriter(sft, dpo, openAi);
                string? System(long? templateId) => templateId is { } id && templates.TryGetValue(id, out var t) ? t.SystemText : null;
                foreach (var batch in plan.Sft.Chunk(TextBatch))
                {
                    var (prompts, completions) = await TextsAsync(db, batch, cancellationToken);
                    foreach (var row in batch) writer.AddSft(System(row.TemplateId), prompts[row.AnnotationId], completions[row.ChosenSampleId]);
                }
                foreach (var batch in plan.Dpo.Chunk(TextBatch))
                {
                    var (prompts, completions) = await TextsAsync(db, batch, cancellationToken);
                    foreach (var row in batch)
                        writer.AddDpo(System(row.TemplateId), prompts[row.AnnotationId], completions[row.ChosenSampleId], completions[row.RejectedSampleId!.Value]);
                }
                files = writer.Finish();
            }
            var manifest = TrainingManifest.Create(plan, files, infos.Where(a => !a.HeldOut).SelectMany(a => a.Samples), pairProvenance);
            var json = manifest.ToJson();
            await File.WriteAllBytesAsync(Path.Combine(staging, TrainingFiles.Manifest), System.Text.Encoding.UTF8.GetBytes(json), cancellationToken);
            return new Built(iteration.ExperimentId, iteration.Number, plan, json, files, staging, target);
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    private static async Task<(Dictionary<long, string> Prompts, Dictionary<long, string> Completions)> TextsAsync(
        SelfTaughtDbContext db, IReadOnlyCollection<PlannedRow> rows, CancellationToken cancellationToken)
    {
        var annotationIds = rows.Select(r => r.AnnotationId).ToList();
        var sampleIds = rows.Select(r => r.ChosenSampleId).Concat(rows.Select(r => r.RejectedSampleId).OfType<long>()).Distinct().ToList();
        var prompts = await db.Annotations.AsNoTracking().Where(a => annotationIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.JudgePrompt, cancellationToken);
        var completions = await db.JudgmentSamples.AsNoTracking().Where(s => sampleIds.Contains(s.Id) && s.RawCompletion != null)
            .ToDictionaryAsync(s => s.Id, s => s.RawCompletion!, cancellationToken);
        if (prompts.Count != annotationIds.Count || completions.Count != sampleIds.Count)
            throw new StageException("Annotations or judgment samples changed while the training set was being written; build it again.");
        return (prompts, completions);
    }

    private async Task StoreAsync(SelfTaughtDbContext db, long runId, long iterationId, Built built, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var iteration = await db.Iterations.SingleAsync(i => i.Id == iterationId, cancellationToken);

        // A rebuild replaces the previous training set of the iteration.
        await db.TrainingSetMembers.Where(m => m.TrainingSet!.IterationId == iterationId).ExecuteDeleteAsync(cancellationToken);
        await db.TrainingSets.Where(t => t.IterationId == iterationId).ExecuteDeleteAsync(cancellationToken);

        var plan = built.Plan;
        var hashes = built.Files.ToDictionary(f => f.Name, f => f.Sha256, StringComparer.Ordinal);
        TrainingSet Set(TrainingSetKind kind, IReadOnlyList<PlannedRow> rows, string file) => new()
        {
            IterationId = iterationId, Kind = kind, Seed = plan.Input.IterationSeed, Size = rows.Count,
            GoldACount = rows.Count(r => r.Gold == Position.A), GoldBCount = rows.Count(r => r.Gold == Position.B),
            OverMaxLengthCount = rows.Count(r => r.OverMaxLength), ManifestJson = built.ManifestJson, ContentHash = hashes[file],
            StageRunId = runId, CreatedAt = now,
            Members = [.. rows.Select((r, i) => new TrainingSetMember
            {
                AnnotationId = r.AnnotationId, ChosenSampleId = r.ChosenSampleId, RejectedSampleId = r.RejectedSampleId, Ordinal = i,
                TokenCount = r.TokenCount, OverMaxLength = r.OverMaxLength,
            })],
        };
        db.TrainingSets.Add(Set(TrainingSetKind.Sft, plan.Sft, TrainingFiles.Sft));
        db.TrainingSets.Add(Set(TrainingSetKind.Dpo, plan.Dpo, TrainingFiles.Dpo));

        if (iteration.Status < IterationStatus.TrainingSetBuilt) iteration.Status = IterationStatus.TrainingSetBuilt;
        iteration.StatisticsJson = MergeStatistics(iteration.StatisticsJson, Statistics(plan, hashes[TrainingFiles.Sft], runId));
        await db.SaveChangesAsync(cancellationToken);

        // Files go in place last: if storing failed above, the previous export is still whole.
        Directory.CreateDirectory(built.Target);
        foreach (var name in new[] { TrainingFiles.Sft, TrainingFiles.Dpo, TrainingFiles.OpenAi, TrainingFiles.Manifest })
            File.Move(Path.Combine(built.Staging, name), Path.Combine(built.Target, name), overwrite: true);
        TryDelete(built.Staging);
    }

    /// <summary>The <c>training</c> part of an iteration's statistics.</summary>
    public static JsonObject Statistics(TrainingPlan plan, string sftSha256, long stageRunId)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var s = plan.SftCounts;
        var before = s.GoldABeforeBalancing + s.GoldBBeforeBalancing;
        return new JsonObject
        {
            ["stageRunId"] = stageRunId,
            ["sizeBeforeBalancing"] = before,
            ["size"] = s.Rows,
            ["goldABeforeBalancing"] = s.GoldABeforeBalancing,
            ["goldBBeforeBalancing"] = s.GoldBBeforeBalancing,
            ["goldAShareBeforeBalancing"] = before == 0 ? null : Math.Round((double)s.GoldABeforeBalancing / before, 4),
            ["goldA"] = s.GoldA,
            ["goldB"] = s.GoldB,
            ["removedByBalancing"] = s.RemovedByBalancing,
            ["overMaxLengthRows"] = s.OverMaxLengthRows,
            ["excludedOverMaxLength"] = s.ExcludedOverMaxLength,
            ["dpoRows"] = plan.DpoCounts.Rows,
            ["dpoPairsWithoutIncorrectSample"] = plan.DpoPairsWithoutIncorrectSample,
            ["kept"] = plan.Counts.Kept,
            ["droppedNoCorrectSample"] = plan.Counts.DroppedNoCorrectSample,
            ["heldOutExcluded"] = plan.Counts.HeldOutExcluded,
            ["parseFailures"] = plan.Counts.ParseFailures,
            ["sftSha256"] = sftSha256,
        };
    }

    /// <summary>
    /// <paramref name="existing"/> statistics with <c>training</c> set to <paramref name="training"/>, every other
    /// property kept. Text that is not a JSON object is kept under <c>previous</c> rather than lost.
    /// </summary>
    public static string MergeStatistics(string? existing, JsonObject training) => IterationStatistics.Merge(existing, "training", training);

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover staging folder is replaced by the next build.
        }
    }
}
