using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using static System.FormattableString;

namespace SelfTaught.Core.Stages;

/// <summary>
/// Settings of an experiment's <c>select</c> stage: which instructions of its pool go on to pair synthesis.
/// Filters on the analysis (paper Fig. 7) leave out instructions that have not been analyzed.
/// </summary>
public sealed record SelectionSettings
{
    /// <summary>Keep these categories (compared ignoring case); empty: any.</summary>
    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Lowest complexity kept (1–10); null: no lower bound.</summary>
    public int? ComplexityMin { get; init; }

    /// <summary>Highest complexity kept (1–10); null: no upper bound.</summary>
    public int? ComplexityMax { get; init; }

    /// <summary>Keep these length buckets (a–e); empty: any.</summary>
    public IReadOnlyList<char> LengthBuckets { get; init; } = [];

    /// <summary>Keep these languages (compared ignoring case); empty: any.</summary>
    public IReadOnlyList<string> Languages { get; init; } = [];

    /// <summary>Keep at most this many, drawn at random with the experiment's seed; null: all.</summary>
    public int? MaxCount { get; init; }

    /// <summary>Words per n-gram of the contamination check. Default 13.</summary>
    public int NgramSize { get; init; } = 13;

    /// <summary>Exclude contaminated instructions from pair synthesis (they stay listed, flagged). Default true.</summary>
    public bool ExcludeContaminated { get; init; } = true;

    /// <summary>Benchmark datasets to check against; empty: every benchmark dataset in the database.</summary>
    public IReadOnlyList<long> BenchmarkDatasetIds { get; init; } = [];

    /// <summary>Whether any filter needs the instruction analysis.</summary>
    public bool FiltersOnAnalysis => Categories.Count > 0 || ComplexityMin is not null || ComplexityMax is not null || LengthBuckets.Count > 0;

    /// <summary>Every problem with these settings, each naming its field; empty when they are valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        // JSON null for a list: say so instead of failing later.
        if (Categories is null || LengthBuckets is null || Languages is null || BenchmarkDatasetIds is null)
            return ["categories, lengthBuckets, languages and benchmarkDatasetIds must be lists (empty for any), not null."];
        if (ComplexityMin is < 1 or > 10) problems.Add(Invariant($"complexityMin must be 1–10, not {ComplexityMin}."));
        if (ComplexityMax is < 1 or > 10) problems.Add(Invariant($"complexityMax must be 1–10, not {ComplexityMax}."));
        if (ComplexityMin > ComplexityMax) problems.Add(Invariant($"complexityMin ({ComplexityMin}) is above complexityMax ({ComplexityMax})."));
        if (LengthBuckets.FirstOrDefault(b => b is < 'a' or > 'e') is var bad and not '\0')
            problems.Add($"lengthBuckets holds '{bad}'; the buckets are a, b, c, d and e.");
        if (MaxCount is < 1) problems.Add(Invariant($"maxCount must be at least 1, not {MaxCount}."));
        if (NgramSize is < 3 or > 100) problems.Add(Invariant($"ngramSize must be 3–100 words, not {NgramSize}."));
        return problems;
    }
}

/// <summary>
/// An experiment's <c>select</c> stage: filters its instruction pool by analysis (category, complexity, length) and
/// language, draws at most <see cref="SelectionSettings.MaxCount"/> with the experiment's seed, and checks each for
/// contamination against the benchmark prompts in the database (<see cref="ContaminationIndex"/>). Each selected
/// instruction is stored with its check; contaminated ones are excluded by default.
/// </summary>
public sealed class SelectStage : IStage
{
    // Chunks of one run share the item list and the benchmark index: both are deterministic for the run.
    private readonly ConcurrentDictionary<long, Lazy<Task<IReadOnlyList<long>>>> _items = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<ContaminationIndex>>> _indexes = new();
    private readonly IDbContextFactory<SelfTaughtDbContext> _contexts;

    /// <summary>Creates the stage.</summary>
    public SelectStage(IDbContextFactory<SelfTaughtDbContext> contexts) => _contexts = contexts;

    /// <inheritdoc />
    public StageKind Kind => StageKind.Select;

    /// <inheritdoc />
    public async Task<IStageExecution> PrepareAsync(SelfTaughtDbContext db, StageRun run, CancellationToken cancellationToken)
    {
        var settings = System.Text.Json.JsonSerializer.Deserialize<SelectionSettings>(run.SettingsJson, StageJson.Options)
            ?? throw new StageException("The run has no settings.");
        if (settings.Problems() is { Count: > 0 } problems) throw new StageException(string.Join(" ", problems));
        var experiment = await db.Experiments.AsNoTracking().Where(e => e.Id == run.ExperimentId)
            .Select(e => new { e.Id, e.InstructionDatasetId, e.Seed }).SingleOrDefaultAsync(cancellationToken)
            ?? throw new StageException($"Experiment {run.ExperimentId} does not exist.");

        var benchmarks = settings.BenchmarkDatasetIds.Count > 0
            ? [.. settings.BenchmarkDatasetIds.Order()]
            : await db.Datasets.AsNoTracking().Where(d => d.Role == DatasetRole.Benchmark && d.Status == DatasetStatus.Ready)
                .OrderBy(d => d.Id).Select(d => d.Id).ToListAsync(cancellationToken);
        var found = await db.Datasets.AsNoTracking().Where(d => benchmarks.Contains(d.Id) && d.Status == DatasetStatus.Ready)
            .Select(d => new { d.Id, d.RowCount }).ToListAsync(cancellationToken);
        if (found.Count != benchmarks.Count)
            throw new StageException($"Benchmark dataset(s) {string.Join(", ", benchmarks.Except(found.Select(f => f.Id)))} do not exist.");
        // Row counts in the key: a dataset id is never reused, but this keeps a rebuilt database from hitting a stale index.
        var indexKey = Invariant($"{settings.NgramSize}:{string.Join(",", found.OrderBy(f => f.Id).Select(f => $"{f.Id}/{f.RowCount}"))}");
        var lazyIndex = _indexes.GetOrAdd(indexKey, _ => new Lazy<Task<ContaminationIndex>>(() => BuildIndexAsync(benchmarks, settings.NgramSize)));
        ContaminationIndex index;
        try
        {
            index = await lazyIndex.Value;
        }
        catch
        {
            _indexes.TryRemove(new KeyValuePair<string, Lazy<Task<ContaminationIndex>>>(indexKey, lazyIndex));
            throw;
        }

        var items = _items.GetOrAdd(run.Id, _ => new Lazy<Task<IReadOnlyList<long>>>(
            () => ListAsync(experiment.InstructionDatasetId, experiment.Seed, settings)));
        try
        {
            await items.Value;
        }
        catch
        {
            _items.TryRemove(new KeyValuePair<long, Lazy<Task<IReadOnlyList<long>>>>(run.Id, items));
            throw;
        }
        return new Execution(run.Id, experiment.Id, settings, index, items, _contexts);
    }

    /// <summary>The instructions a selection picks, in ascending id order (no contamination check).</summary>
    public async Task<IReadOnlyList<long>> ListAsync(long datasetId, long seed, SelectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        await using var db = await _contexts.CreateDbContextAsync();
        var query = db.Instructions.AsNoTracking().Where(i => i.DatasetId == datasetId);
        if (settings.FiltersOnAnalysis) query = query.Where(i => i.AnalyzedAt != null);
        if (settings.Categories.Count > 0)
        {
            var categories = settings.Categories.Select(c => c.Trim().ToLowerInvariant()).ToList();
            query = query.Where(i => i.Category != null && categories.Contains(i.Category.ToLower()));
        }
        if (settings.ComplexityMin is { } min) query = query.Where(i => i.Complexity >= min);
        if (settings.ComplexityMax is { } max) query = query.Where(i => i.Complexity <= max);
        if (settings.LengthBuckets.Count > 0)
        {
            var buckets = settings.LengthBuckets.Select(b => (char?)b).ToList();
            query = query.Where(i => buckets.Contains(i.LengthBucket));
        }
        if (settings.Languages.Count > 0)
        {
            var languages = settings.Languages.Select(l => l.Trim().ToLowerInvariant()).ToList();
            query = query.Where(i => i.Language != null && languages.Contains(i.Language.ToLower()));
        }
        var rows = await query.Select(i => new { i.Id, i.RowIndex }).ToListAsync();
        // A seeded draw that depends neither on the order rows come back in nor on database ids: each instruction is
        // ranked by a seed derived from its position in the source, so the same file and seed pick the same rows anywhere.
        var ids = settings.MaxCount is { } cap && rows.Count > cap
            ? rows.OrderBy(r => Seeds.Derive(seed, SeedStreams.Selection, r.RowIndex)).ThenBy(r => r.RowIndex).Take(cap).Select(r => r.Id).ToList()
            : rows.Select(r => r.Id).ToList();
        ids.Sort();
        return ids;
    }

    private async Task<ContaminationIndex> BuildIndexAsync(IReadOnlyList<long> datasetIds, int ngramSize)
    {
        var index = new ContaminationIndex(ngramSize);
        await using var db = await _contexts.CreateDbContextAsync();
        var names = await db.Datasets.AsNoTracking().Where(d => datasetIds.Contains(d.Id)).ToDictionaryAsync(d => d.Id, d => d.Name);
        await foreach (var row in db.LabeledPairs.AsNoTracking().Where(p => datasetIds.Contains(p.DatasetId))
                           .OrderBy(p => p.DatasetId).ThenBy(p => p.RowIndex)
                           .Select(p => new { p.DatasetId, p.Subset, p.SourceId, p.RowIndex, p.Prompt }).AsAsyncEnumerable())
        {
            var id = row.SourceId ?? Invariant($"row {row.RowIndex}");
            index.Add(row.Prompt, row.Subset is null ? $"{names[row.DatasetId]} / {id}" : $"{names[row.DatasetId]} / {row.Subset} / {id}");
        }
        return index;
    }

    private sealed record Checked(ContaminationHit? Hit);

    private sealed class Execution(long runId, long experimentId, SelectionSettings settings, ContaminationIndex index,
        Lazy<Task<IReadOnlyList<long>>> items, IDbContextFactory<SelfTaughtDbContext> contexts) : IStageExecution
    {
        public int Parallelism => 8;

        public Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, CancellationToken cancellationToken) => items.Value;

        public async Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, long firstItemId, long lastItemId, CancellationToken cancellationToken)
        {
            // The selection is drawn once per run and process (a seeded draw over the whole pool) and kept in ascending
            // order, so a chunk finds its range by binary search instead of scanning every item.
            return SortedIds.Range(await items.Value, firstItemId, lastItemId);
        }

        public async Task<IReadOnlySet<long>> StoredAsync(SelfTaughtDbContext db, IReadOnlyCollection<long> itemIds, CancellationToken cancellationToken)
        {
            var stored = new HashSet<long>();
            foreach (var chunk in itemIds.Chunk(5_000))
                stored.UnionWith(await db.ExperimentInstructions.AsNoTracking()
                    .Where(i => i.ExperimentId == experimentId && chunk.Contains(i.InstructionId)).Select(i => i.InstructionId).ToListAsync(cancellationToken));
            return stored;
        }

        public async Task<ItemOutcome> ProcessAsync(long itemId, CancellationToken cancellationToken)
        {
            string? text;
            await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
                text = await db.Instructions.AsNoTracking().Where(i => i.Id == itemId).Select(i => i.Text).SingleOrDefaultAsync(cancellationToken);
            return text is null
                ? new ItemOutcome(itemId, $"Instruction {itemId} no longer exists.", 0, 0, null)
                : new ItemOutcome(itemId, null, 0, 0, new Checked(index.Check(text)));
        }

        public async Task WriteAsync(SelfTaughtDbContext db, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken)
        {
            var rows = outcomes.Where(o => o.Result is Checked).Select(o => ((Checked)o.Result!).Hit is var hit ? new ExperimentInstruction
            {
                ExperimentId = experimentId,
                InstructionId = o.ItemId,
                Contamination = hit?.Kind ?? ContaminationKind.None,
                ContaminationMatch = hit?.Match,
                Excluded = hit is not null && settings.ExcludeContaminated,
                StageRunId = runId,
            } : null).OfType<ExperimentInstruction>().ToList();
            await db.InsertOrIgnoreAsync(rows, cancellationToken);
        }
    }
}
