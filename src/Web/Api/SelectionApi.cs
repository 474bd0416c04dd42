using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;

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

/// <summary>The selection's distributions against the pool (the twin of the Select panel's charts).</summary>
public static class SelectionApi
{
    /// <summary>Maps the route under <c>/api</c>.</summary>
    public static RouteGroupBuilder MapSelectionApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/experiments/{id:long}/selection/distributions", GetAsync).WithTags("Experiments").WithName("GetSelectionDistributions")
            .WithSummary("Category, complexity and length shares of the selected (not excluded) instructions against the whole pool (paper Figs. 3–6)");
        return api;
    }

    private static async Task<IResult> GetAsync(long id, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var datasetId = await db.Experiments.AsNoTracking().Where(e => e.Id == id).Select(e => (long?)e.InstructionDatasetId).SingleOrDefaultAsync(cancellationToken);
        if (datasetId is null)
            return TypedResults.Problem(detail: $"Experiment {id} does not exist.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        var pool = await InstructionsApi.SummarizeAsync(db, datasetId.Value, cancellationToken);
        return TypedResults.Ok(await SelectionDistributions.LoadAsync(db, id, pool, cancellationToken));
    }
}
