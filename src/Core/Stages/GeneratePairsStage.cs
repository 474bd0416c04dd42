using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Models;
using SelfTaught.Core.Pairs;
using SelfTaught.Core.Prompts;
using static System.FormattableString;

namespace SelfTaught.Core.Stages;

/// <summary>A mix source with its ratio resolved to a number of pairs when the run was started.</summary>
/// <param name="DatasetId">The dataset.</param>
/// <param name="Kind">HelpSteer2, HhRlhf or GradedMath.</param>
/// <param name="Count">Rows drawn from it (questions, for graded math).</param>
/// <param name="Skipped">Rows of the dataset that cannot be drawn (HelpSteer2 pairs of equal weighted score, questions without a numeric answer), counted at start.</param>
public sealed record ResolvedMixSource(long DatasetId, PairMethod Kind, int Count, int Skipped = 0);

/// <summary>The settings snapshot of a <c>generate-pairs</c> run (stored in <see cref="StageRun.SettingsJson"/>).</summary>
public sealed record GeneratePairsRunSettings
{
    /// <summary>Generation settings in effect: the experiment's, with the request's overrides.</summary>
    public GenerationSettings Generation { get; init; } = new();

    /// <summary>The mix sources with their counts (ratios resolved against the selection at start).</summary>
    public IReadOnlyList<ResolvedMixSource> Mix { get; init; } = [];

    /// <summary>Model that writes y_w, y_l and math solutions (the experiment's generator).</summary>
    public string GeneratorModel { get; init; } = "";

    /// <summary>Its endpoint; null spreads over every endpoint serving the model.</summary>
    public string? GeneratorEndpoint { get; init; }
}

/// <summary>Provenance of a synthetic pair, stored in <see cref="Pair.DetailsJson"/>.</summary>
/// <param name="ResponseSeeds">Request seed of each attempt at y_w.</param>
/// <param name="RejectedSeeds">Request seed of each attempt at y_l (pair synthesis or rewrite).</param>
/// <param name="ResponseFinishReason">Why the generation of y_w stopped (<c>length</c> means it was cut at max_tokens).</param>
/// <param name="RejectedFinishReason">Why the last y_l generation stopped.</param>
/// <param name="AttemptErrors">Why each failed attempt was not usable (missing markers, empty output).</param>
public sealed record SyntheticPairDetails(
    IReadOnlyList<long> ResponseSeeds, IReadOnlyList<long> RejectedSeeds, string? ResponseFinishReason, string? RejectedFinishReason,
    IReadOnlyList<string> AttemptErrors);

/// <summary>Provenance of a pair taken from labeled data, stored in <see cref="Pair.DetailsJson"/>.</summary>
/// <param name="DatasetId">Source dataset.</param>
/// <param name="RowIndex">Position of the labeled pair in its source.</param>
/// <param name="SourceId">Its id in the source, if any.</param>
/// <param name="ChosenResponse">Which response of the labeled pair became y_w (A or B).</param>
/// <param name="ScoresA">HelpSteer2: the attribute scores of response A.</param>
/// <param name="ScoresB">HelpSteer2: the attribute scores of response B.</param>
/// <param name="WeightedA">HelpSteer2: the weighted score of A (weights <see cref="HelpSteer2Scores.Weights"/>).</param>
/// <param name="WeightedB">HelpSteer2: the weighted score of B.</param>
public sealed record LabeledPairDetails(
    long DatasetId, int RowIndex, string? SourceId, Position ChosenResponse,
    HelpSteer2Scores? ScoresA = null, HelpSteer2Scores? ScoresB = null, double? WeightedA = null, double? WeightedB = null);

/// <summary>One sampled solution of a graded math pair.</summary>
/// <param name="Index">Sample index k.</param>
/// <param name="Seed">The request's seed.</param>
/// <param name="Text">The solution as the model wrote it.</param>
/// <param name="Answer">Its normalized final answer (<see cref="MathAnswers.Extract"/>), if any.</param>
/// <param name="Correct">Whether the answer equals the reference.</param>
/// <param name="FinishReason">Why generation stopped.</param>
public sealed record GradedSolutionDetails(int Index, long Seed, string Text, string? Answer, bool Correct, string? FinishReason);

/// <summary>The graded solutions of a math pair, stored in <see cref="Pair.DetailsJson"/>.</summary>
/// <param name="DatasetId">Dataset of the question.</param>
/// <param name="RowIndex">Position of the question in its source.</param>
/// <param name="Reference">The reference answer, normalized.</param>
/// <param name="Solutions">Every sampled solution, graded.</param>
/// <param name="ChosenIndex">The correct solution that became y_w.</param>
/// <param name="RejectedIndex">The incorrect solution that became y_l.</param>
/// <param name="PairingSeed">Seed of the draw of the two solutions.</param>
public sealed record GradedPairDetails(
    long DatasetId, int RowIndex, string? Reference, IReadOnlyList<GradedSolutionDetails> Solutions, int? ChosenIndex, int? RejectedIndex, long PairingSeed);

/// <summary>Rows of a mix source that can be drawn, or why the dataset cannot be mixed in.</summary>
/// <param name="Rows">Eligible rows.</param>
/// <param name="Skipped">Rows left out: HelpSteer2 pairs of equal weighted score (or unreadable scores), questions without a numeric reference answer, tied labeled pairs.</param>
/// <param name="Problem">Why the dataset cannot be used for this kind; null when it can.</param>
/// <param name="DatasetName">The dataset's name, when it exists.</param>
public sealed record MixCandidates(IReadOnlyList<MixCandidate> Rows, int Skipped, string? Problem, string? DatasetName);

/// <summary>
/// An experiment's <c>generate-pairs</c> stage (DESIGN §1 step 2). Items are the selected, non-excluded instructions
/// (synthetic pairs) plus the rows drawn from the mix sources. A synthetic pair takes two requests: the response-
/// generation template renders x into y_w; then pair synthesis (Fig. 2) yields x′ and y_l, or the worse-response rewrite
/// (Fig. 10) yields y_l. An output without its markers is asked again (new seed) up to MaxAttempts times, then the pair
/// is stored as Failed with the parser's error and the whole raw text. hh-rlhf and HelpSteer2 pairs are copied from
/// their labeled rows (no model call); a GSM8K question gets K sampled solutions, graded against its reference answer,
/// and a correct and an incorrect one become y_w and y_l. Every request has its own derived seed
/// (<see cref="PairSeeds.Request"/>), each pair a seeded held-out flag (<see cref="PairSeeds.IsHeldOut"/>), and each
/// stored pair names its templates, generator and stage run. A call that fails after the client's retries (backend
/// down) fails the item, not the pair: retry-failed runs it again.
/// </summary>
public sealed class GeneratePairsStage(IModelResolver models, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time) : IStage
{
    // Chunks of one run share its item list: it is deterministic for the run (seeded draws over the stored rows).
    private readonly ConcurrentDictionary<long, Lazy<Task<IReadOnlyList<long>>>> _items = new();

    private static readonly JsonSerializerOptions DetailsJson = new(StageJson.Options)
    {
        // Stored, not rendered as HTML: keep non-English text readable and compact.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <inheritdoc />
    public StageKind Kind => StageKind.GeneratePairs;

    /// <inheritdoc />
    public async Task<IStageExecution> PrepareAsync(SelfTaughtDbContext db, StageRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(run);
        var settings = JsonSerializer.Deserialize<GeneratePairsRunSettings>(run.SettingsJson, StageJson.Options)
            ?? throw new StageException("The run has no settings.");
        if (settings.Generation.Problems() is { Count: > 0 } problems) throw new StageException(string.Join(" ", problems));
        var experiment = await db.Experiments.AsNoTracking().Where(e => e.Id == run.ExperimentId)
            .Select(e => new { e.Id, e.Seed }).SingleOrDefaultAsync(cancellationToken)
            ?? throw new StageException($"Experiment {run.ExperimentId} does not exist.");

        ResolvedModel? model = null;
        if (settings.Generation.IncludeSynthetic || settings.Mix.Any(m => m.Kind == PairMethod.GradedMath))
        {
            try
            {
                model = models.Resolve(new ModelReference(settings.GeneratorModel, settings.GeneratorEndpoint));
            }
            catch (ModelResolutionException ex)
            {
                throw new StageException(ex.Message, ex);
            }
        }
        var now = time.GetUtcNow().UtcDateTime;
        var responseTemplate = await TemplateAsync(db, settings.Generation.ResponseTemplateId, PromptLibrary.ResponseGeneration, now, cancellationToken);
        var rejectedTemplate = await TemplateAsync(db, settings.Generation.SynthesisTemplateId,
            settings.Generation.Method == PairMethod.WorseResponse ? PromptLibrary.WorseResponseRewrite : PromptLibrary.PairSynthesis, now, cancellationToken);

        var items = _items.GetOrAdd(run.Id, _ => new Lazy<Task<IReadOnlyList<long>>>(() => ListAsync(experiment.Id, experiment.Seed, settings)));
        try
        {
            await items.Value;
        }
        catch
        {
            _items.TryRemove(new KeyValuePair<long, Lazy<Task<IReadOnlyList<long>>>>(run.Id, items));
            throw;
        }
        return new Execution(run.Id, experiment.Id, experiment.Seed, settings, model, responseTemplate, rejectedTemplate, items, contexts, time);
    }

    /// <summary>The chosen version of a template family, or the built-in one when none is chosen.</summary>
    /// <exception cref="StageException">The chosen version does not exist or belongs to another family.</exception>
    private static async Task<PromptTemplate> TemplateAsync(SelfTaughtDbContext db, long? templateId, string key, DateTime now, CancellationToken cancellationToken)
    {
        try
        {
            return await PromptTemplateStore.ChosenOrBuiltInAsync(db, templateId, key, now, cancellationToken);
        }
        catch (PromptTemplateException ex)
        {
            throw new StageException(ex.Message, ex);
        }
    }

    /// <summary>Every item of a run over experiment <paramref name="experimentId"/>, in ascending order (see <see cref="PairItemKeys"/>).</summary>
    /// <exception cref="StageException">A mix source can no longer be used (its dataset was deleted).</exception>
    public async Task<IReadOnlyList<long>> ListAsync(long experimentId, long seed, GeneratePairsRunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        await using var db = await contexts.CreateDbContextAsync();
        var items = new List<long>();
        if (settings.Generation.IncludeSynthetic)
            items.AddRange((await SyntheticInstructionIdsAsync(db, experimentId, CancellationToken.None))
                .Select(id => PairItemKeys.Encode(settings.Generation.Method, id)));
        foreach (var source in settings.Mix)
        {
            var candidates = await MixCandidatesAsync(db, source.DatasetId, source.Kind, CancellationToken.None);
            if (candidates.Problem is { } problem) throw new StageException(problem);
            items.AddRange(MixSelection.Choose(candidates.Rows, source.Count, seed, source.Kind).Select(id => PairItemKeys.Encode(source.Kind, id)));
        }
        items.Sort();
        return items;
    }

    /// <summary>The instructions synthetic pairs are made from: the experiment's selection without the excluded ones, by id.</summary>
    public static async Task<IReadOnlyList<long>> SyntheticInstructionIdsAsync(SelfTaughtDbContext db, long experimentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return await db.ExperimentInstructions.AsNoTracking().Where(i => i.ExperimentId == experimentId && !i.Excluded)
            .OrderBy(i => i.InstructionId).Select(i => i.InstructionId).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// The rows of dataset <paramref name="datasetId"/> a source of kind <paramref name="kind"/> can draw from: hh-rlhf
    /// pairs without a tie, HelpSteer2 pairs whose weighted scores differ, questions with a numeric reference answer.
    /// </summary>
    public static async Task<MixCandidates> MixCandidatesAsync(SelfTaughtDbContext db, long datasetId, PairMethod kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var dataset = await db.Datasets.AsNoTracking().Where(d => d.Id == datasetId && d.Status == DatasetStatus.Ready)
            .Select(d => new { d.Name, d.Role, d.Preset }).SingleOrDefaultAsync(cancellationToken);
        if (dataset is null) return new MixCandidates([], 0, $"dataset {datasetId} does not exist (or is still importing).", null);
        string? Expect(DatasetRole role, string? preset, string what)
        {
            if (dataset.Role == DatasetRole.Benchmark)
                return $"dataset {datasetId} ('{dataset.Name}') is a benchmark; mixing it into training data would leak it into the evaluation. Import it again as labeled pairs.";
            if (dataset.Role != role || (preset is not null && !string.Equals(dataset.Preset, preset, StringComparison.OrdinalIgnoreCase)))
                return $"dataset {datasetId} ('{dataset.Name}', {dataset.Role}{(dataset.Preset is null ? "" : $", preset {dataset.Preset}")}) is not {what}.";
            return null;
        }

        switch (kind)
        {
            case PairMethod.HhRlhf:
            {
                if (Expect(DatasetRole.LabeledPairs, "hh-rlhf", "an hh-rlhf dataset (import it with preset hh-rlhf)") is { } problem)
                    return new MixCandidates([], 0, problem, dataset.Name);
                var rows = await db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == datasetId)
                    .Select(p => new { p.Id, p.RowIndex, p.Gold }).ToListAsync(cancellationToken);
                return new MixCandidates([.. rows.Where(r => r.Gold != GoldLabel.Tie).Select(r => new MixCandidate(r.Id, r.RowIndex))],
                    rows.Count(r => r.Gold == GoldLabel.Tie), null, dataset.Name);
            }
            case PairMethod.HelpSteer2:
            {
                if (Expect(DatasetRole.LabeledPairs, "helpsteer2", "a HelpSteer2 dataset (import it with preset helpsteer2)") is { } problem)
                    return new MixCandidates([], 0, problem, dataset.Name);
                var rows = await db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == datasetId)
                    .Select(p => new { p.Id, p.RowIndex, p.AttributeScoresAJson, p.AttributeScoresBJson }).ToListAsync(cancellationToken);
                var usable = rows.Where(r => HelpSteer2Scores.FromJson(r.AttributeScoresAJson) is { } a && HelpSteer2Scores.FromJson(r.AttributeScoresBJson) is { } b
                    && HelpSteer2Scores.PreferByWeight(a, b) != GoldLabel.Tie).Select(r => new MixCandidate(r.Id, r.RowIndex)).ToList();
                return new MixCandidates(usable, rows.Count - usable.Count, null, dataset.Name);
            }
            case PairMethod.GradedMath:
            {
                if (Expect(DatasetRole.InstructionPool, null, "an instruction pool with reference answers (import GSM8K with preset gsm8k)") is { } problem)
                    return new MixCandidates([], 0, problem, dataset.Name);
                var rows = await db.Instructions.AsNoTracking().Where(i => i.DatasetId == datasetId)
                    .Select(i => new { i.Id, i.RowIndex, i.ReferenceAnswer }).ToListAsync(cancellationToken);
                var usable = rows.Where(r => MathAnswers.Normalize(r.ReferenceAnswer) is not null).Select(r => new MixCandidate(r.Id, r.RowIndex)).ToList();
                if (usable.Count == 0)
                    return new MixCandidates([], rows.Count, $"dataset {datasetId} ('{dataset.Name}') has no instruction with a numeric reference answer to grade solutions against (import GSM8K with preset gsm8k).", dataset.Name);
                return new MixCandidates(usable, rows.Count - usable.Count, null, dataset.Name);
            }
            default:
                return new MixCandidates([], 0, $"{kind} is not a kind of mix source; use HelpSteer2, HhRlhf or GradedMath.", dataset.Name);
        }
    }

    private sealed class Tokens
    {
        private long _prompt;
        private long _completion;
        public long Prompt => Interlocked.Read(ref _prompt);
        public long Completion => Interlocked.Read(ref _completion);

        public void Add(CallUsage usage)
        {
            Interlocked.Add(ref _prompt, usage.PromptTokens ?? 0);
            Interlocked.Add(ref _completion, usage.CompletionTokens ?? 0);
        }
    }

    private sealed record Completion(string Text, CallUsage Usage, long Seed);

    private sealed class Execution(
        long runId, long experimentId, long seed, GeneratePairsRunSettings settings, ResolvedModel? model,
        PromptTemplate responseTemplate, PromptTemplate rejectedTemplate, Lazy<Task<IReadOnlyList<long>>> items,
        IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time) : IStageExecution
    {
        private GenerationSettings Generation => settings.Generation;

        // Twice the endpoint capacity keeps the limiter's queue full; labeled pairs need no model at all.
        public int Parallelism => model is null ? 8 : Math.Max(1, model.Capabilities.MaxConcurrentRequests * 2);

        public Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, CancellationToken cancellationToken) => items.Value;

        public async Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, long firstItemId, long lastItemId, CancellationToken cancellationToken) =>
            SortedIds.Range(await items.Value, firstItemId, lastItemId);

        public async Task<IReadOnlySet<long>> StoredAsync(SelfTaughtDbContext db, IReadOnlyCollection<long> itemIds, CancellationToken cancellationToken)
        {
            var stored = new HashSet<long>();
            foreach (var group in itemIds.Select(PairItemKeys.Decode).GroupBy(i => i.Method))
            {
                var method = group.Key;
                foreach (var chunk in group.Select(i => i.SourceId).Chunk(5_000))
                {
                    var pairs = db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId && p.Method == method);
                    var found = IsLabeled(method)
                        ? await pairs.Where(p => p.SourceLabeledPairId != null && chunk.Contains(p.SourceLabeledPairId.Value)).Select(p => p.SourceLabeledPairId!.Value).ToListAsync(cancellationToken)
                        : await pairs.Where(p => p.InstructionId != null && chunk.Contains(p.InstructionId.Value)).Select(p => p.InstructionId!.Value).ToListAsync(cancellationToken);
                    stored.UnionWith(found.Select(id => PairItemKeys.Encode(method, id)));
                }
            }
            return stored;
        }

        public async Task<ItemOutcome> ProcessAsync(long itemId, CancellationToken cancellationToken)
        {
            var (method, sourceId) = PairItemKeys.Decode(itemId);
            var tokens = new Tokens();
            try
            {
                var pair = method switch
                {
                    PairMethod.ModifiedInstruction or PairMethod.WorseResponse => await SyntheticAsync(method, sourceId, tokens, cancellationToken),
                    PairMethod.HhRlhf or PairMethod.HelpSteer2 => await LabeledAsync(method, sourceId, cancellationToken),
                    PairMethod.GradedMath => await GradedAsync(sourceId, tokens, cancellationToken),
                    _ => throw new ItemException($"Item {itemId} has method {method}, which this stage does not make."),
                };
                pair.PromptTokens = (int)Math.Min(tokens.Prompt, int.MaxValue);
                pair.CompletionTokens = (int)Math.Min(tokens.Completion, int.MaxValue);
                return new ItemOutcome(itemId, null, tokens.Prompt, tokens.Completion, pair);
            }
            catch (ItemException ex)
            {
                return new ItemOutcome(itemId, ex.Message, tokens.Prompt, tokens.Completion, null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The client already retried; the item is recorded as failed and retry-failed runs it again.
                return new ItemOutcome(itemId, $"The generator call failed: {ex.Message}", tokens.Prompt, tokens.Completion, null);
            }
        }

        public async Task WriteAsync(SelfTaughtDbContext db, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var pairs = outcomes.Select(o => o.Result).OfType<Pair>().ToList();
            foreach (var pair in pairs)
            {
                pair.StageRunId = runId;
                pair.CreatedAt = now;
            }
            await db.InsertOrIgnoreAsync(pairs, cancellationToken);
        }

        private static bool IsLabeled(PairMethod method) => method is PairMethod.HhRlhf or PairMethod.HelpSteer2 or PairMethod.Labeled;

        private Pair NewPair(PairMethod method, int rowIndex, string prompt) => new()
        {
            ExperimentId = experimentId,
            Method = method,
            Prompt = prompt,
            HeldOut = PairSeeds.IsHeldOut(seed, method, rowIndex, Generation.HeldOutShare),
        };

        private async Task<(string Text, int RowIndex, string? Reference, long DatasetId)> InstructionAsync(long id, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var row = await db.Instructions.AsNoTracking().Where(i => i.Id == id)
                .Select(i => new { i.Text, i.RowIndex, i.ReferenceAnswer, i.DatasetId }).SingleOrDefaultAsync(cancellationToken)
                ?? throw new ItemException($"Instruction {id} no longer exists.");
            return (row.Text, row.RowIndex, row.ReferenceAnswer, row.DatasetId);
        }

        private async Task<Completion> CompleteAsync(PromptTemplate template, IReadOnlyDictionary<string, string> values, long requestSeed,
            Tokens tokens, CancellationToken cancellationToken)
        {
            var client = model?.Client ?? throw new ItemException("No generator model was resolved for this run.");
            var prompt = PromptText.Render(template.UserText, values);
            List<ChatMessage> messages = template.SystemText is { } system
                ? [new(ChatRole.System, system), new(ChatRole.User, prompt)]
                : [new(ChatRole.User, prompt)];
            var response = await client.GetResponseAsync(messages, new ChatOptions
            {
                Temperature = (float)Generation.Temperature,
                TopP = (float)Generation.TopP,
                MaxOutputTokens = Generation.MaxTokens,
                Seed = requestSeed,
            }, cancellationToken);
            var usage = CallUsage.From(response);
            tokens.Add(usage);
            return new Completion(response.Text ?? "", usage, requestSeed);
        }

        private async Task<Pair> SyntheticAsync(PairMethod method, long instructionId, Tokens tokens, CancellationToken cancellationToken)
        {
            var (x, rowIndex, _, _) = await InstructionAsync(instructionId, cancellationToken);
            var pair = NewPair(method, rowIndex, x);
            pair.InstructionId = instructionId;
            pair.ResponseTemplateId = responseTemplate.Id;
            var responseSeeds = new List<long>();
            var rejectedSeeds = new List<long>();
            var errors = new List<string>();

            // y_w: the plain response to x. An empty answer is asked again, like an output without markers.
            Completion? response = null;
            for (var attempt = 0; attempt < Generation.MaxAttempts; attempt++)
            {
                var completion = await CompleteAsync(responseTemplate, PromptValues.ResponseGeneration(x),
                    PairSeeds.Request(seed, method, rowIndex, PairSeeds.ResponseStep, attempt), tokens, cancellationToken);
                responseSeeds.Add(completion.Seed);
                Provenance(pair, completion.Usage);
                if (!string.IsNullOrWhiteSpace(completion.Text))
                {
                    response = completion;
                    break;
                }
                errors.Add(Invariant($"response attempt {attempt + 1}: empty output"));
            }
            if (response is null)
            {
                pair.Status = PairStatus.Failed;
                pair.Attempts = Generation.MaxAttempts;
                pair.Error = Invariant($"The generator's response to the instruction (y_w) was empty in all {Generation.MaxAttempts} attempts.");
                pair.RawOutput = "";
                pair.DetailsJson = Details(new SyntheticPairDetails(responseSeeds, rejectedSeeds, null, null, errors));
                return pair;
            }
            pair.Chosen = response.Text;

            // y_l: Fig. 2 (x′ and its answer) or Fig. 10 (y_w rewritten worse), asked again while the markers are missing.
            pair.TemplateId = rejectedTemplate.Id;
            Completion? last = null;
            string? lastError = null;
            for (var attempt = 0; attempt < Generation.MaxAttempts; attempt++)
            {
                var values = method == PairMethod.WorseResponse
                    ? PromptValues.WorseResponseRewrite(x, response.Text)
                    : PromptValues.PairSynthesis(x, response.Text);
                last = await CompleteAsync(rejectedTemplate, values, PairSeeds.Request(seed, method, rowIndex, PairSeeds.RejectedStep, attempt), tokens, cancellationToken);
                rejectedSeeds.Add(last.Seed);
                Provenance(pair, last.Usage);
                pair.Attempts = attempt + 1;
                pair.RawOutput = last.Text;
                if (method == PairMethod.WorseResponse)
                {
                    var parsed = WorseRewriteParser.Parse(last.Text);
                    if (parsed.Ok)
                    {
                        pair.Rejected = parsed.Response;
                        lastError = null;
                        break;
                    }
                    lastError = parsed.Error;
                }
                else
                {
                    var parsed = PairSynthesisParser.Parse(last.Text);
                    if (parsed.Ok)
                    {
                        pair.ModifiedPrompt = parsed.ModifiedInstruction;
                        pair.Rejected = parsed.Response;
                        lastError = null;
                        break;
                    }
                    lastError = parsed.Error;
                }
                errors.Add(Invariant($"attempt {attempt + 1}: {lastError}"));
            }
            pair.Status = lastError is null ? PairStatus.Ready : PairStatus.Failed;
            pair.Error = lastError is null ? null
                : Invariant($"{Capitalize(lastError)} in the {(method == PairMethod.WorseResponse ? "rewrite" : "pair synthesis")} output, after {pair.Attempts} attempt{(pair.Attempts == 1 ? "" : "s")}.");
            pair.DetailsJson = Details(new SyntheticPairDetails(responseSeeds, rejectedSeeds, response.Usage.FinishReason, last?.Usage.FinishReason, errors));
            return pair;
        }

        private async Task<Pair> LabeledAsync(PairMethod method, long labeledPairId, CancellationToken cancellationToken)
        {
            LabeledPair? row;
            await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
                row = await db.LabeledPairs.AsNoTracking().SingleOrDefaultAsync(p => p.Id == labeledPairId, cancellationToken);
            if (row is null) throw new ItemException($"Labeled pair {labeledPairId} no longer exists.");
            var pair = NewPair(method, row.RowIndex, row.Prompt);
            pair.SourceLabeledPairId = labeledPairId;
            pair.Attempts = 0;
            GoldLabel better;
            LabeledPairDetails details;
            if (method == PairMethod.HelpSteer2)
            {
                var a = HelpSteer2Scores.FromJson(row.AttributeScoresAJson);
                var b = HelpSteer2Scores.FromJson(row.AttributeScoresBJson);
                better = a is null || b is null ? GoldLabel.Tie : HelpSteer2Scores.PreferByWeight(a, b);
                details = new LabeledPairDetails(row.DatasetId, row.RowIndex, row.SourceId, better == GoldLabel.B ? Position.B : Position.A,
                    a, b, a?.Weighted, b?.Weighted);
            }
            else
            {
                better = row.Gold;
                details = new LabeledPairDetails(row.DatasetId, row.RowIndex, row.SourceId, better == GoldLabel.B ? Position.B : Position.A);
            }
            pair.DetailsJson = Details(details);
            if (better == GoldLabel.Tie)
            {
                // Ties are left out when rows are drawn; a row changed since is stored as failed rather than guessed.
                pair.Status = PairStatus.Failed;
                pair.Error = method == PairMethod.HelpSteer2
                    ? "The two responses have equal weighted scores (or unreadable ones), so neither is better."
                    : "The labeled pair is a tie, so neither response is better.";
                return pair;
            }
            pair.Chosen = better == GoldLabel.A ? row.ResponseA : row.ResponseB;
            pair.Rejected = better == GoldLabel.A ? row.ResponseB : row.ResponseA;
            pair.Status = PairStatus.Ready;
            return pair;
        }

        private async Task<Pair> GradedAsync(long instructionId, Tokens tokens, CancellationToken cancellationToken)
        {
            var (question, rowIndex, reference, datasetId) = await InstructionAsync(instructionId, cancellationToken);
            const PairMethod method = PairMethod.GradedMath;
            var pair = NewPair(method, rowIndex, question);
            pair.InstructionId = instructionId;
            pair.ResponseTemplateId = responseTemplate.Id;
            pair.TemplateId = responseTemplate.Id;
            pair.Attempts = 1;

            // K independent samples, each with its own seed; the endpoint's limiter bounds how many run at once.
            var completions = await Task.WhenAll(Enumerable.Range(0, Generation.GradedSamples).Select(k =>
                CompleteAsync(responseTemplate, PromptValues.ResponseGeneration(question),
                    PairSeeds.Request(seed, method, rowIndex, k, 0), tokens, cancellationToken)));
            foreach (var completion in completions) Provenance(pair, completion.Usage);
            var graded = completions.Select((c, k) => MathAnswers.Grade(k, c.Text, reference)).ToList();
            var pairingSeed = Seeds.Derive(seed, SeedStreams.Generation, (long)method, rowIndex, PairSeeds.PairingStep);
            var choice = GradedPairs.Choose(graded, new Random((int)pairingSeed));
            pair.DetailsJson = Details(new GradedPairDetails(datasetId, rowIndex, MathAnswers.Normalize(reference),
                [.. graded.Select(g => new GradedSolutionDetails(g.Index, completions[g.Index].Seed, completions[g.Index].Text, g.Answer, g.Correct, completions[g.Index].Usage.FinishReason))],
                choice.Chosen, choice.Rejected, pairingSeed));
            if (!choice.Ok)
            {
                pair.Status = PairStatus.Failed;
                pair.Error = Invariant($"No graded pair: {choice.Problem} (reference answer {MathAnswers.Normalize(reference)}).");
                return pair;
            }
            pair.Chosen = completions[choice.Chosen!.Value].Text;
            pair.Rejected = completions[choice.Rejected!.Value].Text;
            pair.Status = PairStatus.Ready;
            return pair;
        }

        private void Provenance(Pair pair, CallUsage usage)
        {
            pair.GeneratorModel = usage.Model ?? settings.GeneratorModel;
            pair.GeneratorEndpoint = usage.Endpoint ?? settings.GeneratorEndpoint;
        }

        private static string Details<T>(T details) => JsonSerializer.Serialize(details, DetailsJson);

        private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
    }

    /// <summary>An item that cannot be processed for a reason other than a failed call (its source row is gone).</summary>
    private sealed class ItemException(string message) : Exception(message);
}
