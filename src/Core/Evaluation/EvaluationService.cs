using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Models;
using SelfTaught.Core.Prompts;
using SelfTaught.Core.Stages;
using static System.FormattableString;

namespace SelfTaught.Core.Evaluation;

/// <summary>What to evaluate and how (DESIGN §5 <c>POST /api/evaluations</c>).</summary>
/// <param name="Benchmark">The protocol.</param>
/// <param name="DatasetId">The benchmark or labeled-pair data set; or use <paramref name="ExperimentId"/> with <paramref name="HeldOut"/>.</param>
/// <param name="ExperimentId">An experiment whose held-out synthetic pairs are the set (with <paramref name="HeldOut"/>).</param>
/// <param name="HeldOut">Evaluate on the experiment's held-out pairs.</param>
/// <param name="Endpoint">Endpoint serving the model; null spreads over every endpoint serving it.</param>
/// <param name="Model">The judge model; or use <paramref name="CandidateModelId"/>.</param>
/// <param name="CandidateModelId">A registered candidate model (checkpoint) of an iteration.</param>
/// <param name="PositionMode">Orders to judge in; default both.</param>
/// <param name="Samples">k of maj@k; 1 (default) is a single greedy judgment.</param>
/// <param name="Temperature">Default 0 (greedy), or 0.7 with maj@k and for HelpSteer2 (paper Table 8).</param>
/// <param name="TopP">Default 1, or 0.9 with maj@k and for HelpSteer2.</param>
/// <param name="MaxTokens">Token limit of each judgment (default 4096).</param>
/// <param name="Seeds">Seeds of repetitions (each judges every example; scores are averaged); default one new seed, three for sampled HelpSteer2.</param>
/// <param name="TemplateId">Judge template version; default the built-in Fig. 8 prompt.</param>
/// <param name="Options">Protocol options (MT-Bench judges and turn, parse errors, HelpSteer2 weighting).</param>
public sealed record EvaluationRequest(
    BenchmarkKind Benchmark,
    long? DatasetId = null,
    long? ExperimentId = null,
    bool HeldOut = false,
    string? Endpoint = null,
    string? Model = null,
    long? CandidateModelId = null,
    PositionMode PositionMode = PositionMode.Both,
    int Samples = 1,
    double? Temperature = null,
    double? TopP = null,
    int MaxTokens = 4096,
    IReadOnlyList<long>? Seeds = null,
    long? TemplateId = null,
    EvaluationOptions? Options = null);

/// <summary>A started evaluation.</summary>
/// <param name="EvaluationId">The evaluation run.</param>
/// <param name="StageRunId">Its stage run (progress, cancel, resume).</param>
public sealed record EvaluationStarted(long EvaluationId, long StageRunId);

/// <summary>An evaluation cannot be started or imported; the message names the problem.</summary>
/// <param name="message">What is wrong.</param>
/// <param name="notFound">A named data set, experiment, model or evaluation does not exist (404).</param>
/// <param name="conflict">The state forbids it (409).</param>
public sealed class EvaluationException(string message, bool notFound = false, bool conflict = false) : Exception(message)
{
    /// <summary>Something named does not exist.</summary>
    public bool NotFound { get; } = notFound;

    /// <summary>The current state forbids it.</summary>
    public bool Conflict { get; } = conflict;
}

/// <summary>Starts evaluation runs (as stage runs) and scores externally produced results.</summary>
public sealed class EvaluationService(IDbContextFactory<SelfTaughtDbContext> contexts, StageEngine engine, IModelResolver models,
    IModelIdentifier identifier, TimeProvider time)
{
    /// <summary>Largest k of maj@k.</summary>
    public const int MaxSamples = 64;

    /// <summary>Most seeds (repetitions) in one run.</summary>
    public const int MaxSeeds = 10;

    /// <summary>Validates <paramref name="request"/>, records the run with the model's identity, and starts its stage run.</summary>
    /// <exception cref="EvaluationException">The request is invalid, or names something that does not exist.</exception>
    public async Task<EvaluationStarted> StartAsync(EvaluationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var options = request.Options ?? new EvaluationOptions();

        // The model: a candidate checkpoint, or a model (and endpoint) named directly.
        var (model, endpoint, candidateId) = await ModelOfAsync(db, request, cancellationToken);
        if (request.Samples is < 1 or > MaxSamples) throw new EvaluationException(Invariant($"samples must be 1–{MaxSamples} (k of maj@k); it is {request.Samples}."));
        if (request.MaxTokens < 1) throw new EvaluationException("maxTokens must be at least 1.");
        var sampled = request.Samples > 1 || request.Benchmark == BenchmarkKind.HelpSteer2;
        var temperature = request.Temperature ?? (sampled ? 0.7 : 0);
        var topP = request.TopP ?? (sampled ? 0.9 : 1);
        if (temperature is < 0 or > 2 || double.IsNaN(temperature)) throw new EvaluationException(Invariant($"temperature must be 0–2; it is {temperature}."));
        if (topP is <= 0 or > 1 || double.IsNaN(topP)) throw new EvaluationException(Invariant($"topP must be in (0, 1]; it is {topP}."));
        if (request.Samples > 1 && temperature == 0)
            throw new EvaluationException("maj@k needs sampling: with samples > 1, temperature must be above 0 (paper: 0.7), or every sample is the same.");
        var seeds = SeedsFor(request, temperature);

        // The set.
        var run = new EvaluationRun
        {
            Benchmark = request.Benchmark,
            Model = model,
            Endpoint = endpoint,
            CandidateModelId = candidateId,
            PositionMode = request.PositionMode,
            Samples = request.Samples,
            Temperature = temperature,
            TopP = topP,
            MaxTokens = request.MaxTokens,
            Seed = seeds[0],
            SeedsJson = JsonSerializer.Serialize(seeds),
            Status = StageStatus.Queued,
            CreatedAt = now,
        };
        await TargetAsync(db, request, run, cancellationToken);
        options = await KeysAsync(db, run, options, cancellationToken);
        run.OptionsJson = JsonSerializer.Serialize(options, StageJson.Options);
        var set = await EvaluationSets.LoadAsync(db, run, null, null, cancellationToken);
        if (set.Items.Count == 0)
            throw new EvaluationException($"The evaluation set has no examples{Filtered(set)}.");

        // The judge template and the model's identity.
        try
        {
            run.TemplateId = (await PromptTemplateStore.ChosenOrBuiltInAsync(db, request.TemplateId, PromptLibrary.JudgePairwise, now, cancellationToken)).Id;
        }
        catch (PromptTemplateException ex)
        {
            throw new EvaluationException($"The judge template: {ex.Message}");
        }
        try
        {
            models.Resolve(new ModelReference(model, endpoint));
        }
        catch (ModelResolutionException ex)
        {
            throw new EvaluationException(ex.Message);
        }
        var identity = await identifier.IdentifyAsync(new ModelReference(model, endpoint), cancellationToken);
        run.ModelDigest = identity.Digest;

        db.EvaluationRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        StageRun stageRun;
        try
        {
            stageRun = await engine.CreateAsync(StageKind.Evaluate, new EvaluateRunSettings(run.Id), run.DatasetId, run.ExperimentId,
                evaluationRunId: run.Id, cancellationToken: cancellationToken);
        }
        catch (StageException ex)
        {
            db.EvaluationRuns.Remove(run);
            await db.SaveChangesAsync(CancellationToken.None);
            throw new EvaluationException(ex.Message, conflict: true);
        }
        run.StageRunId = stageRun.Id;
        await db.SaveChangesAsync(cancellationToken);
        return new EvaluationStarted(run.Id, stageRun.Id);
    }

    private static string Filtered(EvaluationSet set) =>
        set.Filtered.Count == 0 ? "" : $" (left out: {string.Join(", ", set.Filtered.Select(f => $"{f.Value} {f.Key}"))})";

    private static List<long> SeedsFor(EvaluationRequest request, double temperature)
    {
        if (request.Seeds is { Count: > 0 } given)
        {
            if (given.Count > MaxSeeds) throw new EvaluationException(Invariant($"At most {MaxSeeds} seeds; {given.Count} were given."));
            if (given.Distinct().Count() != given.Count) throw new EvaluationException("seeds repeat: each repetition needs its own seed.");
            return [.. given];
        }
        var seed = Seeds.NewSeed();
        // HelpSteer2 at the paper's settings averages three seeds.
        return request.Benchmark == BenchmarkKind.HelpSteer2 && temperature > 0
            ? [seed, Seeds.Derive(seed, 1), Seeds.Derive(seed, 2)]
            : [seed];
    }

    private static async Task<(string Model, string? Endpoint, long? CandidateId)> ModelOfAsync(SelfTaughtDbContext db, EvaluationRequest request, CancellationToken cancellationToken)
    {
        if (request.CandidateModelId is { } candidateId)
        {
            var candidate = await db.CandidateModels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == candidateId, cancellationToken)
                ?? throw new EvaluationException($"Candidate model {candidateId} does not exist.", notFound: true);
            return (candidate.Model, request.Endpoint ?? candidate.Endpoint, candidate.Id);
        }
        if (string.IsNullOrWhiteSpace(request.Model))
            throw new EvaluationException("Name the judge: model (with an optional endpoint) or candidateModelId.");
        return (request.Model.Trim(), string.IsNullOrWhiteSpace(request.Endpoint) ? null : request.Endpoint.Trim(), null);
    }

    /// <summary>Checks the data set or experiment against the benchmark and links it to the run.</summary>
    private static async Task TargetAsync(SelfTaughtDbContext db, EvaluationRequest request, EvaluationRun run, CancellationToken cancellationToken)
    {
        if (request.HeldOut || (request.DatasetId is null && request.ExperimentId is not null))
        {
            if (request.Benchmark != BenchmarkKind.Pairs) throw new EvaluationException("Held-out synthetic pairs are evaluated with benchmark 'pairs'.");
            if (request.ExperimentId is not { } experimentId) throw new EvaluationException("heldOut needs experimentId.");
            if (!await db.Experiments.AnyAsync(e => e.Id == experimentId, cancellationToken))
                throw new EvaluationException($"Experiment {experimentId} does not exist.", notFound: true);
            run.ExperimentId = experimentId;
            return;
        }
        if (request.DatasetId is not { } datasetId) throw new EvaluationException("Name the evaluation set: datasetId, or experimentId with heldOut.");
        var dataset = await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Id == datasetId, cancellationToken)
            ?? throw new EvaluationException($"Dataset {datasetId} does not exist.", notFound: true);
        if (dataset.Status != DatasetStatus.Ready) throw new EvaluationException($"Dataset {datasetId} is still importing.", conflict: true);
        if (dataset.Role == DatasetRole.InstructionPool)
            throw new EvaluationException($"Dataset {datasetId} ('{dataset.Name}') is an instruction pool; an evaluation needs labeled pairs (a benchmark or pair set).");
        var rows = db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == datasetId);
        switch (request.Benchmark)
        {
            case BenchmarkKind.RewardBench:
                var subsets = await rows.Select(p => p.Subset).Distinct().ToListAsync(cancellationToken);
                var unknown = subsets.Where(s => s is null || !RewardBenchScoring.ExampleCounts.ContainsKey(s)).Select(s => s ?? "(none)").Order(StringComparer.Ordinal).ToList();
                if (unknown.Count > 0)
                    throw new EvaluationException($"Dataset {datasetId} ('{dataset.Name}') is not RewardBench: it has subsets RewardBench does not ({string.Join(", ", unknown.Take(10))}). Import the filtered split with preset 'rewardbench', or evaluate it as 'pairs'.");
                break;
            case BenchmarkKind.MtBench:
                if (!await rows.AnyAsync(p => p.Judge != null, cancellationToken))
                    throw new EvaluationException($"Dataset {datasetId} ('{dataset.Name}') has no MT-Bench votes (no judge ids). Import the human judgments with preset 'mtbench-human'.");
                break;
            case BenchmarkKind.HelpSteer2:
                if (!await rows.AnyAsync(p => p.AttributeScoresAJson != null, cancellationToken))
                    throw new EvaluationException($"Dataset {datasetId} ('{dataset.Name}') has no HelpSteer2 attribute scores. Import the validation file with preset 'helpsteer2'.");
                break;
        }
        run.DatasetId = datasetId;
    }

    /// <summary>Example keys must be unique: RewardBench's (subset, id) always are; a pair set whose ids repeat is keyed by row.</summary>
    private static async Task<EvaluationOptions> KeysAsync(SelfTaughtDbContext db, EvaluationRun run, EvaluationOptions options, CancellationToken cancellationToken)
    {
        if (run.DatasetId is null) return options;
        run.OptionsJson = JsonSerializer.Serialize(options, StageJson.Options);
        var set = await EvaluationSets.LoadAsync(db, run, null, null, cancellationToken);
        var duplicates = set.Items.GroupBy(i => i.Key, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count == 0) return options;
        if (run.Benchmark is BenchmarkKind.RewardBench or BenchmarkKind.MtBench)
            throw new EvaluationException($"The data set repeats {duplicates.Count} example keys ({string.Join(", ", duplicates.Take(5))}); {run.Benchmark} examples must be unique.");
        return options with { KeyByRow = true };
    }

    /// <summary>
    /// Scores a JSONL file of per-example outcomes produced elsewhere (DESIGN §5 <c>POST /api/evaluations/import</c>):
    /// each row names its example (<c>subset</c> and <c>id</c>, or <c>key</c>) and gives a <c>score</c> (0–1) or a
    /// <c>verdict</c> (A/B, anything else a parse error) with the <c>chosenPosition</c> it was judged in. Rows are
    /// checked against the data set first: unknown subsets, unknown examples, duplicate rows (same example and order)
    /// and examples with no row are reported, and nothing is stored unless every row is good.
    /// </summary>
    /// <exception cref="EvaluationException">The file or a row is invalid; the message names the lines.</exception>
    public async Task<long> ImportAsync(BenchmarkKind benchmark, long datasetId, string modelName, Stream jsonl, bool allowMissing = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jsonl);
        if (string.IsNullOrWhiteSpace(modelName)) throw new EvaluationException("modelName is required: it names the model the results belong to.");
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var run = new EvaluationRun
        {
            Benchmark = benchmark, Model = modelName.Trim(), Imported = true, Status = StageStatus.Completed, CreatedAt = now, CompletedAt = now,
            PositionMode = PositionMode.Both, Samples = 1,
        };
        await TargetAsync(db, new EvaluationRequest(benchmark, datasetId), run, cancellationToken);
        var options = await KeysAsync(db, run, new EvaluationOptions(), cancellationToken);
        run.OptionsJson = JsonSerializer.Serialize(options, StageJson.Options);
        var set = await EvaluationSets.LoadAsync(db, run, null, null, cancellationToken);
        var items = set.Items.ToDictionary(i => i.Key, StringComparer.Ordinal);
        var subsets = set.Items.Select(i => i.Subset).OfType<string>().ToHashSet(StringComparer.Ordinal);

        var results = ExternalResults.Parse(jsonl, benchmark, items, subsets);
        var judged = results.Select(r => r.ExampleKey).ToHashSet(StringComparer.Ordinal);
        var missing = items.Keys.Where(k => !judged.Contains(k)).ToList();
        if (missing.Count > 0 && !allowMissing)
            throw new EvaluationException(Invariant($"{missing.Count} of the data set's {items.Count} examples have no row: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}. Add them, or import with allowMissing to score the rest (they are then counted as not judged)."));

        db.EvaluationRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var result in results)
        {
            result.EvaluationRunId = run.Id;
            result.CreatedAt = now;
        }
        db.EvaluationResults.AddRange(results);
        await db.SaveChangesAsync(cancellationToken);
        await EvaluationSummaries.StoreAsync(db, run.Id, now, cancellationToken);
        return run.Id;
    }
}

/// <summary>Reads externally produced per-example outcomes (JSONL) into evaluation results.</summary>
internal static class ExternalResults
{
    private const int MaxListed = 5;

    public static List<EvaluationResult> Parse(Stream jsonl, BenchmarkKind benchmark, IReadOnlyDictionary<string, EvaluationItem> items, IReadOnlySet<string> subsets)
    {
        var results = new List<EvaluationResult>();
        var problems = new List<string>();
        var unknownSubsets = new SortedSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<(string, Position?), int>();
        using var reader = new StreamReader(jsonl, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonObject? row;
            try
            {
                row = JsonNode.Parse(text) as JsonObject;
            }
            catch (JsonException ex)
            {
                problems.Add(Invariant($"line {line}: not JSON ({ex.Message})"));
                continue;
            }
            if (row is null) { problems.Add(Invariant($"line {line}: not a JSON object")); continue; }

            var subset = Text(row["subset"]);
            var id = Text(row["id"]);
            var key = Text(row["key"]) ?? (id is null ? null : subset is null ? id : $"{subset}/{id}");
            if (key is null) { problems.Add(Invariant($"line {line}: no 'id' (with 'subset') or 'key'")); continue; }
            if (subset is not null && !subsets.Contains(subset)
                && !(benchmark == BenchmarkKind.RewardBench && RewardBenchScoring.ExampleCounts.ContainsKey(subset)))
            {
                unknownSubsets.Add(subset);
                continue;
            }
            if (!items.TryGetValue(key, out var item)) { problems.Add(Invariant($"line {line}: no example '{key}' in the data set")); continue; }

            Position? chosenPosition = null;
            if (Text(row["chosenPosition"]) is { } positionText)
            {
                if (!Enum.TryParse<Position>(positionText, ignoreCase: true, out var p) || !Enum.IsDefined(p))
                {
                    problems.Add(Invariant($"line {line}: chosenPosition '{positionText}' is not A or B"));
                    continue;
                }
                chosenPosition = p;
            }
            double score;
            Verdict? verdict = null;
            if (row["score"] is { } scoreNode)
            {
                if (!double.TryParse(scoreNode.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out score) || double.IsNaN(score) || score is < 0 or > 1)
                {
                    problems.Add(Invariant($"line {line}: score '{scoreNode}' is not a number between 0 and 1"));
                    continue;
                }
            }
            else if (Text(row["verdict"]) is { } verdictText)
            {
                if (chosenPosition is not { } chosen) { problems.Add(Invariant($"line {line}: a verdict needs the chosenPosition it was judged in")); continue; }
                verdict = VerdictParser.ParseLenient(verdictText.Length == 1 ? $"[[{verdictText.ToUpperInvariant()}]]" : verdictText).Verdict;
                score = EvaluationPlan.SampleScore(benchmark, verdict.Value, chosen);
            }
            else
            {
                problems.Add(Invariant($"line {line}: neither 'score' nor 'verdict'"));
                continue;
            }
            if (seen.TryGetValue((key, chosenPosition), out var earlier))
            {
                problems.Add(Invariant($"line {line}: duplicate of line {earlier} (example '{key}'{(chosenPosition is { } cp ? $", chosen as {cp}" : "")})"));
                continue;
            }
            seen[(key, chosenPosition)] = line;
            results.Add(new EvaluationResult
            {
                ExampleKey = key,
                LabeledPairId = item.Id,
                Subset = item.Subset,
                ChosenPosition = chosenPosition ?? Position.A,
                RawCompletion = Text(row["output"]) ?? Text(row["judgment"]),
                Verdict = verdict,
                Score = score,
            });
        }
        if (line == 0 || (results.Count == 0 && problems.Count == 0 && unknownSubsets.Count == 0)) throw new EvaluationException("The results file is empty.");
        var messages = new List<string>();
        if (unknownSubsets.Count > 0) messages.Add($"Unknown subsets: {string.Join(", ", unknownSubsets)}.");
        if (problems.Count > 0)
            messages.Add(Invariant($"{problems.Count} bad rows: {string.Join("; ", problems.Take(MaxListed))}{(problems.Count > MaxListed ? "; …" : "")}."));
        if (messages.Count > 0) throw new EvaluationException(string.Join(" ", messages) + " Nothing was stored.");
        // A score row and verdict rows for the same example would count it twice.
        var mixed = results.GroupBy(r => r.ExampleKey).Where(g => g.Any(r => r.Verdict is null) && g.Count() > 1).Select(g => g.Key).ToList();
        if (mixed.Count > 0)
            throw new EvaluationException($"Examples with a score row and other rows: {string.Join(", ", mixed.Take(MaxListed))}. Give one score, or one verdict per order. Nothing was stored.");
        return results;
    }

    private static string? Text(JsonNode? node) => node is JsonValue value
        ? value.TryGetValue<string>(out var s) ? (string.IsNullOrWhiteSpace(s) ? null : s.Trim()) : value.ToString()
        : null;
}
