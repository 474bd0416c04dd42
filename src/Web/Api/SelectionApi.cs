using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Api;

/// <summary>One bar pair of a selected-set-versus-pool distribution.</summary>
/// <param name="Label">Category, complexity score or length bucket.</param>
/// <param name="PoolCount">Instructions of the pool with this value.</param>
/// <param name="PoolShare">Their share (0–100) of the pool's instructions that have a value for the field.</param>
/// <param name="SelectedCount">Selected (not excluded) instructions with this value.</param>
/// <param name="SelectedShare">Their share (0–100) of the selected instructions that have a value for the field.</param>
public sealed record DistributionComparisonRow(string Label, int PoolCount, double PoolShare, int SelectedCount, double SelectedShare);

/// <summary>One field's distribution in the pool and in the selection, as shares so the two sets compare.</summary>
/// <param name="PoolTotal">Pool instructions with a value for the field (the pool shares' denominator).</param>
/// <param name="SelectedTotal">Selected instructions with a value for the field (the selected shares' denominator).</param>
/// <param name="Rows">Values in display order.</param>
public sealed record DistributionComparison(int PoolTotal, int SelectedTotal, IReadOnlyList<DistributionComparisonRow> Rows)
{
    /// <summary>
    /// Compares two distributions of one field: rows in the pool's order (values only the selection has come last),
    /// each count as a percentage of its own set's total. A set with no values has shares of 0. Pure.
    /// </summary>
    public static DistributionComparison Compare(IReadOnlyList<LabelCount> pool, IReadOnlyList<LabelCount> selected)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(selected);
        var poolTotal = pool.Sum(c => c.Count);
        var selectedTotal = selected.Sum(c => c.Count);
        var selectedByLabel = selected.GroupBy(c => c.Label, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(c => c.Count), StringComparer.Ordinal);
        var labels = pool.Select(c => c.Label).Concat(selected.Select(c => c.Label)).Distinct(StringComparer.Ordinal);
        var poolByLabel = pool.GroupBy(c => c.Label, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(c => c.Count), StringComparer.Ordinal);
        return new DistributionComparison(poolTotal, selectedTotal, [.. labels.Select(label =>
        {
            var inPool = poolByLabel.GetValueOrDefault(label);
            var inSelection = selectedByLabel.GetValueOrDefault(label);
            return new DistributionComparisonRow(label, inPool, Share(inPool, poolTotal), inSelection, Share(inSelection, selectedTotal));
        })]);
    }

    private static double Share(int count, int total) => total == 0 ? 0 : 100.0 * count / total;
}

/// <summary>
/// The selected set of an experiment against its whole instruction pool (paper Figs. 3–6): category, complexity (1–10)
/// and expected length (a–e), from the instruction analysis.
/// </summary>
/// <param name="PoolSize">Instructions in the pool.</param>
/// <param name="Selected">Selected instructions that go on to pair synthesis (excluded ones are left out).</param>
/// <param name="Categories">Category shares.</param>
/// <param name="Complexity">Complexity shares, 1 to 10.</param>
/// <param name="Length">Length-bucket shares, a to e.</param>
public sealed record SelectionDistributions(int PoolSize, int Selected, DistributionComparison Categories, DistributionComparison Complexity, DistributionComparison Length)
{
    /// <summary>
    /// Counts the selection of experiment <paramref name="experimentId"/> with grouped queries (no rows are loaded) and
    /// compares it with <paramref name="pool"/>, the summary of its pool (<see cref="InstructionsApi.SummarizeAsync"/>).
    /// </summary>
    public static async Task<SelectionDistributions> LoadAsync(SelfTaughtDbContext db, long experimentId, InstructionAnalysisSummary pool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(pool);
        var selected = db.ExperimentInstructions.AsNoTracking().Where(e => e.ExperimentId == experimentId && !e.Excluded).Select(e => e.Instruction!);
        var count = await selected.CountAsync(cancellationToken);
        var categories = await selected.Where(i => i.Category != null).GroupBy(i => i.Category!)
            .Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var complexity = await selected.Where(i => i.Complexity != null).GroupBy(i => i.Complexity!.Value)
            .Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var length = await selected.Where(i => i.LengthBucket != null).GroupBy(i => i.LengthBucket!.Value)
            .Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        return new SelectionDistributions(pool.Total, count,
            DistributionComparison.Compare(pool.Categories, [.. categories.OrderByDescending(c => c.Count).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => new LabelCount(c.Key, c.Count))]),
            DistributionComparison.Compare(pool.Complexity, [.. complexity.Select(c => new LabelCount(c.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Count))]),
            DistributionComparison.Compare(pool.Length, [.. length.Select(l => new LabelCount(l.Key.ToString(), l.Count))]));
    }
}

/// <summary>One instruction of an experiment's selection, with its contamination check.</summary>
/// <param name="InstructionId">The instruction's id.</param>
/// <param name="RowIndex">Its row in the pool (0-based, import order).</param>
/// <param name="Excerpt">The first <see cref="SelectionApi.ExcerptLength"/> characters of its text.</param>
/// <param name="Category">Category from the instruction analysis; null when not analyzed.</param>
/// <param name="Complexity">Complexity 1–10 from the analysis; null when not analyzed.</param>
/// <param name="LengthBucket">Expected answer length a–e from the analysis; null when not analyzed.</param>
/// <param name="Contamination">Whether it matched a benchmark prompt, and how.</param>
/// <param name="ContaminationMatch">The benchmark row it matched (dataset / split / row); null when clean.</param>
/// <param name="Excluded">Whether it is left out of pair synthesis.</param>
public sealed record SelectedInstructionRow(
    long InstructionId, int RowIndex, string Excerpt, string? Category, int? Complexity, char? LengthBucket,
    ContaminationKind Contamination, string? ContaminationMatch, bool Excluded);

/// <summary>The selection of an experiment, paged, and its distributions against the pool (the twins of the Select panel).</summary>
public static class SelectionApi
{
    /// <summary>Characters of an instruction's text in a list row.</summary>
    public const int ExcerptLength = 240;

    // The contamination filter's values besides the kinds' names: any kind other than None.
    private const string AnyContamination = "contaminated";

    /// <summary>Maps the routes under <c>/api</c>.</summary>
    public static RouteGroupBuilder MapSelectionApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/experiments/{id:long}/selection", ListAsync).WithTags("Experiments").WithName("ListSelection")
            .WithSummary("The selected instructions, by pool row, with their analysis and contamination check; filter by contamination "
                + "(None, ExactMatch, NGramOverlap or contaminated) and excluded (true/false)");
        api.MapGet("/experiments/{id:long}/selection/distributions", GetAsync).WithTags("Experiments").WithName("GetSelectionDistributions")
            .WithSummary("Category, complexity and length shares of the selected (not excluded) instructions against the whole pool (paper Figs. 3–6)");
        return api;
    }

    /// <summary>
    /// Reads the <c>contamination</c> filter: a <see cref="ContaminationKind"/> name (any case), or <c>contaminated</c> for
    /// any kind but <see cref="ContaminationKind.None"/>; null or blank means no filter. Returns an error message naming
    /// the accepted values when it is neither. Pure.
    /// </summary>
    public static (ContaminationKind[]? Kinds, string? Error) ParseContamination(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return (null, null);
        var trimmed = value.Trim();
        if (string.Equals(trimmed, AnyContamination, StringComparison.OrdinalIgnoreCase)) return ([ContaminationKind.ExactMatch, ContaminationKind.NGramOverlap], null);
        // One name exactly: Enum.TryParse would also take numbers and comma-separated lists.
        if (Enum.GetNames<ContaminationKind>().FirstOrDefault(n => string.Equals(n, trimmed, StringComparison.OrdinalIgnoreCase)) is { } name)
            return ([Enum.Parse<ContaminationKind>(name)], null);
        return (null, $"contamination must be one of {string.Join(", ", Enum.GetNames<ContaminationKind>())} or {AnyContamination}, not '{value}'.");
    }

    private static async Task<IResult> ListAsync(long id, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken,
        int page = 1, int pageSize = Paging.DefaultPageSize, string? contamination = null, string? excluded = null)
    {
        var errors = Paging.Validate(page, pageSize) ?? [];
        var (kinds, contaminationError) = ParseContamination(contamination);
        if (contaminationError is not null) errors["contamination"] = [contaminationError];
        bool? excludedFilter = null;
        if (!string.IsNullOrWhiteSpace(excluded))
        {
            if (bool.TryParse(excluded.Trim(), out var e)) excludedFilter = e;
            else errors["excluded"] = [$"excluded must be true or false, not '{excluded}'."];
        }
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (!await db.Experiments.AnyAsync(e => e.Id == id, cancellationToken)) return NotFound($"Experiment {id} does not exist.");
        var rows = db.ExperimentInstructions.AsNoTracking().Where(s => s.ExperimentId == id);
        if (kinds is not null) rows = rows.Where(s => kinds.Contains(s.Contamination));
        if (excludedFilter is { } only) rows = rows.Where(s => s.Excluded == only);
        var total = await rows.CountAsync(cancellationToken);
        var items = await rows.OrderBy(s => s.Instruction!.RowIndex).ThenBy(s => s.InstructionId).Skip((page - 1) * pageSize).Take(pageSize)
            .Select(s => new SelectedInstructionRow(s.InstructionId, s.Instruction!.RowIndex, s.Instruction.Text.Substring(0, ExcerptLength),
                s.Instruction.Category, s.Instruction.Complexity, s.Instruction.LengthBucket, s.Contamination, s.ContaminationMatch, s.Excluded))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<SelectedInstructionRow>(items, total));
    }

    private static async Task<IResult> GetAsync(long id, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var datasetId = await db.Experiments.AsNoTracking().Where(e => e.Id == id).Select(e => (long?)e.InstructionDatasetId).SingleOrDefaultAsync(cancellationToken);
        if (datasetId is null) return NotFound($"Experiment {id} does not exist.");
        var pool = await InstructionsApi.SummarizeAsync(db, datasetId.Value, cancellationToken);
        return TypedResults.Ok(await SelectionDistributions.LoadAsync(db, id, pool, cancellationToken));
    }

    // Problem details (RFC 9457) with the message as detail, and as "error" like the other experiment endpoints.
    private static ProblemHttpResult NotFound(string message) =>
        TypedResults.Problem(detail: message, statusCode: StatusCodes.Status404NotFound, title: "Not found",
            extensions: new Dictionary<string, object?> { ["error"] = message });
}
