using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Pairs;
using SelfTaught.Core.Prompts;
using SelfTaught.Core.Stages;
using static System.FormattableString;

namespace SelfTaught.Core.Experiments;

/// <summary>
/// What <c>generate-pairs</c> is asked to do: overrides of the experiment's <see cref="GenerationSettings"/> (omitted
/// fields keep the experiment's values), the labeled sources to mix in, and whether existing pairs are replaced.
/// </summary>
public sealed record GeneratePairsRequest
{
    /// <summary>ModifiedInstruction (Fig. 2) or WorseResponse (Fig. 10).</summary>
    public PairMethod? Method { get; init; }

    /// <summary>Generator temperature.</summary>
    public double? Temperature { get; init; }

    /// <summary>Generator top_p.</summary>
    public double? TopP { get; init; }

    /// <summary>max_tokens of every generation.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Attempts per output before a pair without markers is stored as failed.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Seeded share of pairs held out of training.</summary>
    public double? HeldOutShare { get; init; }

    /// <summary>Whether synthetic pairs are made from the selection.</summary>
    public bool? IncludeSynthetic { get; init; }

    /// <summary>K, solutions sampled per graded math question.</summary>
    public int? GradedSamples { get; init; }

    /// <summary>Labeled sources to mix in; null keeps the experiment's (none by default), an empty list mixes none.</summary>
    public IReadOnlyList<PairMixSource>? Mix { get; init; }

    /// <summary>Delete the experiment's pairs and make them again (refused once an iteration has judged them). Default false.</summary>
    public bool Replace { get; init; }

    /// <summary>Template version (a <c>response-generation</c> id) that generates y_w; null keeps the experiment's (default: built-in).</summary>
    public long? ResponseTemplateId { get; init; }

    /// <summary>Template version that makes y_l (<c>pair-synthesis</c> or <c>worse-response-rewrite</c>, by method); null keeps the experiment's.</summary>
    public long? SynthesisTemplateId { get; init; }

    /// <summary><paramref name="settings"/> with this request's overrides.</summary>
    public GenerationSettings ApplyTo(GenerationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings with
        {
            Method = Method ?? settings.Method,
            Temperature = Temperature ?? settings.Temperature,
            TopP = TopP ?? settings.TopP,
            MaxTokens = MaxTokens ?? settings.MaxTokens,
            MaxAttempts = MaxAttempts ?? settings.MaxAttempts,
            HeldOutShare = HeldOutShare ?? settings.HeldOutShare,
            IncludeSynthetic = IncludeSynthetic ?? settings.IncludeSynthetic,
            GradedSamples = GradedSamples ?? settings.GradedSamples,
            Mix = Mix ?? settings.Mix ?? [],
            ResponseTemplateId = ResponseTemplateId ?? settings.ResponseTemplateId,
            SynthesisTemplateId = SynthesisTemplateId ?? settings.SynthesisTemplateId,
        };
    }
}

public sealed partial class ExperimentStages
{
    private sealed record MixPlan(int Index, ResolvedMixSource Source, MixCandidates Candidates, IReadOnlyList<long> Chosen);

    private sealed record GeneratePairsPlan(Experiment Experiment, GenerationSettings Generation, IReadOnlyList<long> Synthetic, IReadOnlyList<MixPlan> Mix);

    /// <summary>The template versions a generation uses: the chosen ones (checked to exist and be of the right family) or the built-ins.</summary>
    /// <exception cref="ExperimentStageException">A chosen version does not exist or belongs to another family (400).</exception>
    private static async Task<(PromptText Response, PromptText Rejected)> ChosenTemplatesAsync(SelfTaughtDbContext db, GenerationSettings g, CancellationToken cancellationToken)
    {
        async Task<PromptText> ChosenAsync(long? id, string key, string field)
        {
            try
            {
                var template = await PromptTemplateStore.ChosenOrBuiltInAsync(db, id, key, DateTime.UtcNow, cancellationToken);
                return new PromptText(template.Key, template.Name, template.Source ?? "", template.SystemText, template.UserText);
            }
            catch (PromptTemplateException ex)
            {
                throw new ExperimentStageException($"settings.generation.{field}: {ex.Message}");
            }
        }

        return (await ChosenAsync(g.ResponseTemplateId, PromptLibrary.ResponseGeneration, "responseTemplateId"),
            await ChosenAsync(g.SynthesisTemplateId, g.Method == PairMethod.WorseResponse ? PromptLibrary.WorseResponseRewrite : PromptLibrary.PairSynthesis, "synthesisTemplateId"));
    }

    /// <summary>
    /// The cost of <c>generate-pairs</c> for experiment <paramref name="experimentId"/> before it starts: per synthetic pair
    /// 2 calls (y_w, then y_l), per graded question K calls, none for labeled pairs. Prompt tokens are estimated from the
    /// rendered templates' lengths (<see cref="CostEstimate.EstimateTokens(long)"/>) with y_w counted at max_tokens; the
    /// completion ceiling is calls × max_tokens. Retries of outputs without markers are not counted.
    /// </summary>
    /// <exception cref="ExperimentStageException">No such experiment (not found), or settings, selection or mix sources that cannot work (400).</exception>
    public async Task<CostEstimate> EstimateGeneratePairsAsync(long experimentId, GeneratePairsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var plan = await PlanGeneratePairsAsync(db, experimentId, request, cancellationToken);
        var g = plan.Generation;
        var (response, rejected) = await ChosenTemplatesAsync(db, g, cancellationToken);
        var notes = new List<string>();

        long calls = 0, promptTokens = 0;
        var synthetic = plan.Synthetic.Count;
        if (synthetic > 0)
        {
            var instructionChars = await SumLengthsAsync(db, plan.Synthetic, cancellationToken);
            calls += 2L * synthetic;
            promptTokens += CostEstimate.EstimateTokens(synthetic * FixedLength(response) + instructionChars);
            // y_w is not known before it is generated: counted at its ceiling, max_tokens.
            promptTokens += CostEstimate.EstimateTokens(synthetic * FixedLength(rejected) + instructionChars) + (long)synthetic * g.MaxTokens;
            notes.Add(Invariant($"{synthetic:N0} synthetic pairs ({(g.Method == PairMethod.WorseResponse ? "worse-response rewrite, Fig. 10" : "modified instruction, Fig. 2")}): 2 calls each, y_w and then y_l; y_w is counted in the second prompt at max_tokens ({g.MaxTokens:N0})."));
            notes.Add(Invariant($"Outputs without their markers are asked again, up to {g.MaxAttempts} attempts per step; those retries are not counted."));
        }
        foreach (var mix in plan.Mix)
        {
            var name = $"dataset {mix.Source.DatasetId} ('{mix.Candidates.DatasetName}')";
            if (mix.Source.Kind == PairMethod.GradedMath)
            {
                var questionChars = await SumLengthsAsync(db, mix.Chosen, cancellationToken);
                calls += (long)g.GradedSamples * mix.Chosen.Count;
                promptTokens += g.GradedSamples * CostEstimate.EstimateTokens(mix.Chosen.Count * FixedLength(response) + questionChars);
                notes.Add(Invariant($"{mix.Chosen.Count:N0} graded math questions from {name}: {g.GradedSamples} sampled solutions each (K), graded against the reference answer."));
            }
            else
            {
                notes.Add(Invariant($"{mix.Chosen.Count:N0} {mix.Source.Kind} pairs from {name}: no model calls."));
            }
            if (mix.Candidates.Skipped > 0)
                notes.Add(Invariant($"{name}: {mix.Candidates.Skipped:N0} rows cannot be used ({SkipReason(mix.Source.Kind)}) and are never drawn."));
        }
        notes.Add(Invariant($"Tokens are estimated at {CostEstimate.CharactersPerToken} characters per token; completions are usually shorter than their max_tokens ceiling."));
        var items = synthetic + plan.Mix.Sum(m => (long)m.Chosen.Count);
        return new CostEstimate(calls, promptTokens, calls * g.MaxTokens, items, notes);
    }

    /// <summary>
    /// Starts <c>generate-pairs</c> for experiment <paramref name="experimentId"/>: makes a pair from each selected,
    /// non-excluded instruction (unless synthetic pairs are off) and from the rows drawn from each mix source. The
    /// generation settings in effect are stored as the experiment's. Existing pairs are kept unless
    /// <see cref="GeneratePairsRequest.Replace"/> is set, and pairs an iteration has judged (or an audit has sampled)
    /// are never replaced.
    /// </summary>
    /// <returns>The stage run.</returns>
    /// <exception cref="ExperimentStageException">Why it cannot start (not found, 400, or 409); nothing was changed.</exception>
    public async Task<StageRun> StartGeneratePairsAsync(long experimentId, GeneratePairsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var plan = await PlanGeneratePairsAsync(db, experimentId, request, cancellationToken);
        await ChosenTemplatesAsync(db, plan.Generation, cancellationToken);
        if (await db.StageRuns.Where(r => r.ExperimentId == experimentId && r.Kind == StageKind.GeneratePairs && Unfinished.Contains(r.Status))
                .Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken) is { } active)
            throw new ExperimentStageException($"Experiment {experimentId} is already generating pairs (stage run {active}); wait for that run or cancel it.", conflict: true);

        var existing = await db.Pairs.CountAsync(p => p.ExperimentId == experimentId, cancellationToken);
        if (existing > 0)
        {
            if (!request.Replace)
                throw new ExperimentStageException(
                    $"Experiment {experimentId} already has {existing:N0} pairs; choose replace to make them again (an unfinished earlier run can be resumed, or its failed items retried, on the Jobs page).", conflict: true);
            if (await db.Annotations.AnyAsync(a => a.Pair!.ExperimentId == experimentId, cancellationToken))
                throw new ExperimentStageException(
                    $"Pairs of experiment {experimentId} have been judged by an iteration, so they can no longer be replaced; create a new experiment instead.", conflict: true);
            if (await db.AuditAssignments.AnyAsync(a => a.Pair!.ExperimentId == experimentId, cancellationToken))
                throw new ExperimentStageException(
                    $"Pairs of experiment {experimentId} are part of an audit, so they can no longer be replaced; create a new experiment instead.", conflict: true);
        }

        // Everything is checked: only now are the old pairs dropped and the settings in effect recorded.
        if (existing > 0) await db.Pairs.Where(p => p.ExperimentId == experimentId).ExecuteDeleteAsync(cancellationToken);
        var settings = ExperimentSettings.FromJson(plan.Experiment.SettingsJson) with { Generation = plan.Generation };
        var settingsJson = settings.ToJson();
        await db.Experiments.Where(e => e.Id == experimentId).ExecuteUpdateAsync(s => s.SetProperty(e => e.SettingsJson, settingsJson), cancellationToken);
        var runSettings = new GeneratePairsRunSettings
        {
            Generation = plan.Generation,
            Mix = [.. plan.Mix.Select(m => m.Source)],
            GeneratorModel = plan.Experiment.GeneratorModel,
            GeneratorEndpoint = plan.Experiment.GeneratorEndpoint,
        };
        try
        {
            return await engine.CreateAsync(StageKind.GeneratePairs, runSettings, experimentId: experimentId, cancellationToken: cancellationToken);
        }
        catch (StageException ex)
        {
            throw new ExperimentStageException(ex.Message, conflict: true);
        }
    }

    private async Task<GeneratePairsPlan> PlanGeneratePairsAsync(SelfTaughtDbContext db, long experimentId, GeneratePairsRequest request, CancellationToken cancellationToken)
    {
        var experiment = await FindAsync(db, experimentId, cancellationToken);
        var generation = request.ApplyTo(ExperimentSettings.FromJson(experiment.SettingsJson).Generation);
        if (generation.Problems() is { Count: > 0 } problems) throw new ExperimentStageException(string.Join(" ", problems));

        IReadOnlyList<long> synthetic = [];
        if (generation.IncludeSynthetic)
        {
            var selected = await db.ExperimentInstructions.CountAsync(i => i.ExperimentId == experimentId, cancellationToken);
            if (selected == 0)
                throw new ExperimentStageException(
                    $"Experiment {experimentId} has no selected instructions yet; run the select stage first (or set includeSynthetic to false to use only mixed-in pairs).");
            synthetic = await GeneratePairsStage.SyntheticInstructionIdsAsync(db, experimentId, cancellationToken);
            if (synthetic.Count == 0)
                throw new ExperimentStageException(
                    $"All {selected:N0} selected instructions of experiment {experimentId} are excluded (contaminated); select again, keeping contaminated ones or with other filters.");
        }

        var mix = new List<MixPlan>();
        for (var i = 0; i < generation.Mix.Count; i++)
        {
            var source = generation.Mix[i];
            var field = Invariant($"mix[{i}]");
            var candidates = await GeneratePairsStage.MixCandidatesAsync(db, source.DatasetId, source.Kind, cancellationToken);
            if (candidates.Problem is { } problem) throw new ExperimentStageException($"{field}.datasetId: {Capitalize(problem)}");
            var count = source.Count ?? (int)Math.Round(source.Ratio!.Value * synthetic.Count, MidpointRounding.AwayFromZero);
            if (count < 1)
                throw new ExperimentStageException(Invariant($"{field}.ratio {source.Ratio} × {synthetic.Count:N0} synthetic pairs rounds to no pairs; raise the ratio or give a count."));
            if (count > candidates.Rows.Count)
            {
                var skipped = candidates.Skipped > 0 ? Invariant($" ({candidates.Skipped:N0} more cannot be used: {SkipReason(source.Kind)})") : "";
                throw new ExperimentStageException(Invariant(
                    $"{field}.{(source.Count is null ? "ratio" : "count")} asks for {count:N0} {source.Kind} pairs, but dataset {source.DatasetId} ('{candidates.DatasetName}') has only {candidates.Rows.Count:N0} usable rows{skipped}."));
            }
            mix.Add(new MixPlan(i, new ResolvedMixSource(source.DatasetId, source.Kind, count, candidates.Skipped), candidates,
                MixSelection.Choose(candidates.Rows, count, experiment.Seed, source.Kind)));
        }
        return new GeneratePairsPlan(experiment, generation, synthetic, mix);
    }

    private static string SkipReason(PairMethod kind) => kind switch
    {
        PairMethod.HelpSteer2 => "equal weighted scores, so neither response is better",
        PairMethod.GradedMath => "no numeric reference answer",
        _ => "labeled as ties",
    };

    // Characters of a template without its placeholders' values: what every rendering adds to the values.
    private static long FixedLength(PromptText template) =>
        (template.SystemText?.Length ?? 0) + PromptText.Render(template.UserText, template.Placeholders.ToDictionary(p => p, _ => "")).Length;

    private static async Task<long> SumLengthsAsync(SelfTaughtDbContext db, IReadOnlyList<long> instructionIds, CancellationToken cancellationToken)
    {
        long total = 0;
        foreach (var chunk in instructionIds.Chunk(5_000))
            total += await db.Instructions.AsNoTracking().Where(i => chunk.Contains(i.Id)).SumAsync(i => (long)i.Text.Length, cancellationToken);
        return total;
    }

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
