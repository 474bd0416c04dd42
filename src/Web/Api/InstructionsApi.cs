using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Api;

/// <summary>Which instructions to list by the state of their analysis (paper Fig. 7).</summary>
public enum AnalysisState
{
    /// <summary>Every instruction.</summary>
    Any,
    /// <summary>Analyzed, all three fields parsed.</summary>
    Analyzed,
    /// <summary>Not analyzed by any run yet.</summary>
    NotAnalyzed,
    /// <summary>Analyzed, but the answer could not be parsed completely.</summary>
    ParseError,
}

/// <summary>Which instructions to list by the number of turns of the conversation they came from.</summary>
public enum TurnFilter
{
    /// <summary>Every instruction.</summary>
    Any,
    /// <summary>From a single-turn conversation (or a plain prompt).</summary>
    Single,
    /// <summary>From a conversation of two or more turns.</summary>
    Multi,
}

/// <summary>Filters of the instruction browser and of <c>GET /api/datasets/{id}/instructions</c>; null or empty means no filter.</summary>
/// <param name="Search">Text the instruction contains (case-insensitive for ASCII).</param>
/// <param name="Language">Exact language as imported.</param>
/// <param name="Category">Exact category from the analysis.</param>
/// <param name="State">Analysis state. Default: any.</param>
/// <param name="Turns">Single- or multi-turn conversations. Default: any.</param>
/// <param name="Length">Expected answer length bucket from the analysis, <c>a</c> to <c>e</c>. Default: any.</param>
public sealed record InstructionFilter(
    string? Search = null, string? Language = null, string? Category = null, AnalysisState State = AnalysisState.Any,
    TurnFilter Turns = TurnFilter.Any, char? Length = null);

/// <summary>An instruction as listed: the start of its text and its analysis.</summary>
public sealed record InstructionRow(
    long Id, int RowIndex, string Excerpt, string? Language, int TurnCount, string? Category, int? Complexity, char? LengthBucket,
    DateTime? AnalyzedAt, string? AnalysisError);

/// <summary>A bar of a distribution.</summary>
public sealed record LabelCount(string Label, int Count);

/// <summary>
/// How far instruction analysis has got over a dataset and what it found: counts by state and the category,
/// complexity (1–10) and length (a–e) distributions. Fields that a partly parsed answer did give are counted.
/// </summary>
public sealed record InstructionAnalysisSummary(
    int Total, int Analyzed, int NotAnalyzed, int ParseErrors,
    IReadOnlyList<LabelCount> Categories, IReadOnlyList<LabelCount> Complexity, IReadOnlyList<LabelCount> Length,
    IReadOnlyList<LabelCount> Languages);

/// <summary>A labeled pair as <c>GET /api/datasets/{id}/rows</c> lists it (whole texts: pairs are read to be checked).</summary>
public sealed record PairRow(long Id, int RowIndex, string? Subset, string? SourceId, string Prompt, string ResponseA, string ResponseB,
    GoldLabel Gold, int Turn, string? MetadataJson);

/// <summary>Instruction-pool endpoints: the analysis summary and a filtered, paged instruction list.</summary>
public static class InstructionsApi
{
    /// <summary>Characters of an instruction's text a list carries.</summary>
    public const int ExcerptLength = 240;

    /// <summary>Languages offered as filters at most (the most frequent ones).</summary>
    public const int MaxLanguages = 50;

    public static RouteGroupBuilder MapInstructionsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets/{id:long}").WithTags("Datasets");

        group.MapGet("/analysis", GetSummaryAsync).WithName("GetInstructionAnalysis")
            .WithSummary("Analyzed / not analyzed / parse-error counts and the category, complexity and length distributions");
        group.MapGet("/rows", ListRowsAsync).WithName("ListDatasetRows")
            .WithSummary("A dataset's rows in source order, server-paged, with q a literal text search: instructions for a pool, pairs (prompt, both responses, label, subset, id, metadata) otherwise");
        group.MapGet("/instructions", ListInstructionsAsync).WithName("ListInstructions")
            .WithSummary("Instructions in source order, server-paged, filtered by text, language, category, analysis state, turns (single/multi) and answer length bucket (a–e)");
        return api;
    }

    private static async Task<Results<Ok<InstructionAnalysisSummary>, NotFound>> GetSummaryAsync(
        long id, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (!await db.Datasets.AnyAsync(d => d.Id == id && d.Status == DatasetStatus.Ready, cancellationToken)) return TypedResults.NotFound();
        return TypedResults.Ok(await SummarizeAsync(db, id, cancellationToken));
    }

    private static async Task<Results<Ok<PagedResult<InstructionRow>>, NotFound, ValidationProblem>> ListInstructionsAsync(
        long id, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken,
        int page = 1, int pageSize = Paging.DefaultPageSize, string? search = null, string? language = null, string? category = null,
        AnalysisState state = AnalysisState.Any, TurnFilter turns = TurnFilter.Any, string? length = null)
    {
        var errors = Paging.Validate(page, pageSize) ?? [];
        char? bucket = null;
        if (!string.IsNullOrEmpty(length))
        {
            if (length.Length == 1 && char.ToLowerInvariant(length[0]) is >= 'a' and <= 'e' and var letter) bucket = letter;
            else errors["length"] = ["length is an answer length bucket from a to e."];
        }
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (!await db.Datasets.AnyAsync(d => d.Id == id && d.Status == DatasetStatus.Ready, cancellationToken)) return TypedResults.NotFound();
        var filter = new InstructionFilter(search, language, category, state, turns, bucket);
        return TypedResults.Ok(await ListAsync(db, id, filter, (page - 1) * pageSize, pageSize, cancellationToken));
    }

    private static async Task<IResult> ListRowsAsync(long id, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken,
        int page = 1, int pageSize = Paging.DefaultPageSize, string? q = null)
    {
        if (Paging.Validate(page, pageSize) is { } errors) return TypedResults.ValidationProblem(errors);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var role = await db.Datasets.AsNoTracking().Where(d => d.Id == id && d.Status == DatasetStatus.Ready).Select(d => (DatasetRole?)d.Role)
            .SingleOrDefaultAsync(cancellationToken);
        if (role is null) return TypedResults.NotFound(new { error = $"Dataset {id} does not exist (or is still importing)." });
        var skip = (page - 1) * pageSize;
        if (role == DatasetRole.InstructionPool)
            return TypedResults.Ok(await ListAsync(db, id, new InstructionFilter(q, null, null, AnalysisState.Any, TurnFilter.Any, null), skip, pageSize, cancellationToken));

        var pairs = db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == id);
        if (!string.IsNullOrWhiteSpace(q))
        {
            var text = q.Trim();
            pairs = pairs.Where(p => p.Prompt.Contains(text) || p.ResponseA.Contains(text) || p.ResponseB.Contains(text));
        }
        var total = await pairs.CountAsync(cancellationToken);
        var items = await pairs.OrderBy(p => p.RowIndex).Skip(skip).Take(pageSize)
            .Select(p => new PairRow(p.Id, p.RowIndex, p.Subset, p.SourceId, p.Prompt, p.ResponseA, p.ResponseB, p.Gold, p.Turn, p.MetadataJson))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<PairRow>(items, total));
    }

    /// <summary>One page of a dataset's instructions in source order.</summary>
    public static async Task<PagedResult<InstructionRow>> ListAsync(
        SelfTaughtDbContext db, long datasetId, InstructionFilter filter, int skip, int take, CancellationToken cancellationToken)
    {
        var query = Filter(db.Instructions.AsNoTracking().Where(i => i.DatasetId == datasetId), filter);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderBy(i => i.RowIndex).ThenBy(i => i.Id).Skip(skip).Take(take)
            .Select(i => new InstructionRow(i.Id, i.RowIndex, i.Text.Substring(0, ExcerptLength), i.Language, i.TurnCount, i.Category,
                i.Complexity, i.LengthBucket, i.AnalyzedAt, i.AnalysisError))
            .ToListAsync(cancellationToken);
        return new PagedResult<InstructionRow>(items, total);
    }

    /// <summary>Counts and distributions of a dataset's instruction analysis.</summary>
    public static async Task<InstructionAnalysisSummary> SummarizeAsync(SelfTaughtDbContext db, long datasetId, CancellationToken cancellationToken)
    {
        var instructions = db.Instructions.AsNoTracking().Where(i => i.DatasetId == datasetId);
        var states = await instructions
            .GroupBy(i => new { Analyzed = i.AnalyzedAt != null, Failed = i.AnalysisError != null })
            .Select(g => new { g.Key.Analyzed, g.Key.Failed, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var categories = await instructions.Where(i => i.Category != null)
            .GroupBy(i => i.Category!).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var complexity = await instructions.Where(i => i.Complexity != null)
            .GroupBy(i => i.Complexity!.Value).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var length = await instructions.Where(i => i.LengthBucket != null)
            .GroupBy(i => i.LengthBucket!.Value).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var languages = await instructions.Where(i => i.Language != null)
            .GroupBy(i => i.Language!).Select(g => new { g.Key, Count = g.Count() })
            .OrderByDescending(g => g.Count).ThenBy(g => g.Key).Take(MaxLanguages).ToListAsync(cancellationToken);

        return new InstructionAnalysisSummary(
            Total: states.Sum(s => s.Count),
            Analyzed: states.Where(s => s.Analyzed && !s.Failed).Sum(s => s.Count),
            NotAnalyzed: states.Where(s => !s.Analyzed).Sum(s => s.Count),
            ParseErrors: states.Where(s => s.Analyzed && s.Failed).Sum(s => s.Count),
            // Most frequent category first; the scales of complexity and length keep their order and show empty bars.
            Categories: [.. categories.OrderByDescending(c => c.Count).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => new LabelCount(c.Key, c.Count))],
            Complexity: [.. Enumerable.Range(1, 10).Select(score => new LabelCount(score.ToString(System.Globalization.CultureInfo.InvariantCulture),
                complexity.FirstOrDefault(c => c.Key == score)?.Count ?? 0))],
            Length: [.. "abcde".Select(bucket => new LabelCount(bucket.ToString(), length.FirstOrDefault(l => l.Key == bucket)?.Count ?? 0))],
            Languages: [.. languages.Select(l => new LabelCount(l.Key, l.Count))]);
    }

    private static IQueryable<Instruction> Filter(IQueryable<Instruction> query, InstructionFilter filter)
    {
        if (!string.IsNullOrWhiteSpace(filter.Search))
        {
            var pattern = "%" + EscapeLike(filter.Search.Trim()) + "%";
            query = query.Where(i => EF.Functions.Like(i.Text, pattern, LikeEscape));
        }
        if (!string.IsNullOrEmpty(filter.Language)) query = query.Where(i => i.Language == filter.Language);
        if (!string.IsNullOrEmpty(filter.Category)) query = query.Where(i => i.Category == filter.Category);
        if (filter.Turns == TurnFilter.Single) query = query.Where(i => i.TurnCount <= 1);
        if (filter.Turns == TurnFilter.Multi) query = query.Where(i => i.TurnCount > 1);
        if (filter.Length is { } length) query = query.Where(i => i.LengthBucket == length);
        return filter.State switch
        {
            AnalysisState.Analyzed => query.Where(i => i.AnalyzedAt != null && i.AnalysisError == null),
            AnalysisState.NotAnalyzed => query.Where(i => i.AnalyzedAt == null),
            AnalysisState.ParseError => query.Where(i => i.AnalyzedAt != null && i.AnalysisError != null),
            _ => query,
        };
    }

    private const string LikeEscape = "\\";

    // The search is literal text: % and _ typed by the user must not act as wildcards.
    private static string EscapeLike(string text) =>
        text.Replace(LikeEscape, LikeEscape + LikeEscape, StringComparison.Ordinal)
            .Replace("%", LikeEscape + "%", StringComparison.Ordinal)
            .Replace("_", LikeEscape + "_", StringComparison.Ordinal);
}
