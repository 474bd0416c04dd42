using System.Linq.Expressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;
using SelfTaught.Web.Import;

namespace SelfTaught.Web.Api;

/// <summary>A dataset as listed by <c>GET /api/datasets</c> and on the Data page.</summary>
/// <param name="Id">Dataset id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Role">What the rows are for.</param>
/// <param name="Preset">Import preset (wire name), if any.</param>
/// <param name="Source">File path, upload name or Hub id the rows came from.</param>
/// <param name="RowCount">Rows stored.</param>
/// <param name="CreatedAt">When the import was started (UTC).</param>
/// <param name="RejectedCount">Rows the import rejected (empty prompt, too long, filtered, ...).</param>
/// <param name="DuplicateCount">Rows the import dropped as duplicates of an earlier row.</param>
public sealed record DatasetSummary(
    long Id,
    string Name,
    DatasetRole Role,
    string? Preset,
    string? Source,
    int RowCount,
    DateTime CreatedAt,
    int RejectedCount = 0,
    int DuplicateCount = 0);

/// <summary>
/// A dataset and how it was imported, as returned by <c>GET /api/datasets/{id}</c> and shown in the Data page's Import
/// card. The settings come from the stored import report, or from the stored import options when there is no report;
/// datasets stored without either (older rows) leave them null.
/// </summary>
/// <param name="Dataset">The dataset as listed, with its counts.</param>
/// <param name="SourceConfig">Hub config (subset) of a Hub import.</param>
/// <param name="SourceSplit">Hub split of a Hub import.</param>
/// <param name="SourceRevision">Hub revision of a Hub import, when one was pinned.</param>
/// <param name="ContentHash">SHA-256 (hex) of the imported bytes.</param>
/// <param name="Description">Description given at import.</param>
/// <param name="Format">File format the rows were read as (<c>jsonl</c>, <c>csv</c>, <c>parquet</c>).</param>
/// <param name="Columns">Source column of each field (<c>prompt</c> → <c>original_prompt</c>): as resolved, or as asked when there is no report.</param>
/// <param name="Filters">Filters applied, with de-duplication resolved.</param>
/// <param name="Report">The import report: files, row counts, rejection reasons with examples, duplicates, timing.</param>
/// <param name="Problem">Why stored import settings or the report could not be read, if so.</param>
public sealed record DatasetDetails(
    DatasetSummary Dataset,
    string? SourceConfig,
    string? SourceSplit,
    string? SourceRevision,
    string? ContentHash,
    string? Description,
    string? Format,
    IReadOnlyDictionary<string, string>? Columns,
    ImportFilters? Filters,
    ImportReport? Report,
    string? Problem);

/// <summary>Dataset endpoints under <c>/api/datasets</c>.</summary>
public static class DatasetsApi
{
    public static RouteGroupBuilder MapDatasetsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets").WithTags("Datasets");

        group.MapGet("/", ListDatasetsAsync)
            .WithName("ListDatasets")
            .WithSummary("Imported datasets, newest first, server-paged");

        group.MapGet("/{id:long}", GetDatasetAsync)
            .WithName("GetDataset")
            .WithSummary("A dataset with its counts, import settings (source, preset, format, columns, filters) and import report (files, rejection reasons with example rows, duplicates, timing, SHA-256)");

        group.MapPost("/import", ImportAsync)
            .WithName("ImportDataset")
            .WithSummary("Import a file (multipart upload, or JSON { path, ...options }) or a Hugging Face dataset (JSON { hub, config, split, revision, ...options }) as a stage run; returns { datasetId, stageRunId }")
            .WithDescription("Presets: wildchat, instructions, pairs, rewardbench, mtbench-human, helpsteer2, hh-rlhf, gsm8k. mtbench-human reads the " +
                "lmsys/mt_bench_human_judgments schema, or votes (question_id, judge, model_a, model_b, winner) joined with an answers file and the " +
                "MT-Bench questions file, given as server paths answersPath and questionsPath (defaults: human_judgment_answers.jsonl beside the votes " +
                "file, ../mt_bench/question.jsonl relative to it). A multipart upload carries one file: upload the votes and name the other two by path.")
            .DisableAntiforgery()
            // Uploads as large as the Data page accepts (Kestrel's default request limit is 30 MB).
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(SelfTaught.Web.Components.Pages.Data.ImportForm.MaxUploadBytes))
            .WithFormOptions(multipartBodyLengthLimit: SelfTaught.Web.Components.Pages.Data.ImportForm.MaxUploadBytes)
            .Accepts<ImportBody>("application/json", "multipart/form-data");

        return api;
    }

    private static async Task<Results<Ok<PagedResult<DatasetSummary>>, ValidationProblem>> ListDatasetsAsync(
        IDbContextFactory<SelfTaughtDbContext> contextFactory,
        CancellationToken cancellationToken,
        int page = 1,
        int pageSize = Paging.DefaultPageSize)
    {
        if (Paging.Validate(page, pageSize) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        await using var db = await contextFactory.CreateDbContextAsync(cancellationToken);
        return TypedResults.Ok(await ListAsync(db, (page - 1) * pageSize, pageSize, cancellationToken));
    }

    private static async Task<Results<Ok<DatasetDetails>, NotFound>> GetDatasetAsync(
        long id, IDbContextFactory<SelfTaughtDbContext> contextFactory, CancellationToken cancellationToken)
    {
        await using var db = await contextFactory.CreateDbContextAsync(cancellationToken);
        return await GetDetailsAsync(db, id, cancellationToken) is { } details ? TypedResults.Ok(details) : TypedResults.NotFound();
    }

    private static async Task<IResult> ImportAsync(HttpRequest http, ImportLauncher launcher, CancellationToken cancellationToken)
    {
        try
        {
            ImportStarted started;
            if (http.HasFormContentType)
            {
                var form = await http.ReadFormAsync(cancellationToken);
                var body = FromForm(form);
                if (form.Files.Count > 1) return Invalid("Upload one file per import.");
                var file = form.Files.Count == 1 ? form.Files[0] : null;
                await using var upload = file?.OpenReadStream();
                started = await launcher.StartAsync(body, upload, file?.FileName, cancellationToken);
            }
            else
            {
                var body = await http.ReadFromJsonAsync<ImportBody>(cancellationToken)
                    ?? throw new ImportException("Send a JSON body such as { \"path\": \"/data/prompts.jsonl\", \"preset\": \"instructions\" }, or a multipart upload.");
                started = await launcher.StartAsync(body, upload: null, fileName: null, cancellationToken);
            }
            return TypedResults.Accepted($"/api/stage-runs/{started.StageRunId}", new { datasetId = started.DatasetId, stageRunId = started.StageRunId });
        }
        catch (Exception ex) when (ex is ImportException or System.Text.Json.JsonException or BadHttpRequestException or InvalidDataException)
        {
            return Invalid(ex.Message);
        }
    }

    private static ImportBody FromForm(IFormCollection form)
    {
        string? Get(string key) => form.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.ToString() : null;
        bool? Flag(string key) => Get(key) is not { } v ? null
            : bool.TryParse(v, out var flag) ? flag : throw new ImportException($"The form field '{key}' must be true or false, not '{v}'.");
        int? Number(string key) => Get(key) is not { } v ? null
            : int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
            : throw new ImportException($"The form field '{key}' must be a whole number, not '{v}'.");
        T? Choice<T>(string key) where T : struct, Enum => Get(key) is not { } v ? null
            : Enum.TryParse<T>(v, ignoreCase: true, out var value) && Enum.IsDefined(value) ? value
            : throw new ImportException($"The form field '{key}' must be one of {string.Join(", ", Enum.GetNames<T>())}, not '{v}'.");
        var columns = form.TryGetValue("columns", out var json) && !string.IsNullOrWhiteSpace(json)
            ? System.Text.Json.JsonSerializer.Deserialize<ColumnMapping>(json.ToString(), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))
            : null;
        return new ImportBody
        {
            Name = Get("name"), Path = Get("path"), Hub = Get("hub"), Config = Get("config"), Split = Get("split"), Revision = Get("revision"),
            Format = Get("format"), Preset = Get("preset"),
            Role = Choice<DatasetRole>("role"),
            Columns = columns, Turn = Choice<TurnSelection>("turn"),
            Language = Get("language"), DropToxic = Flag("dropToxic"), DropRedacted = Flag("dropRedacted"),
            MinPromptLength = Number("minPromptLength"), MaxPromptLength = Number("maxPromptLength"),
            MaxResponseLength = Number("maxResponseLength"), Dedupe = Flag("dedupe"), Description = Get("description"),
            AnswersPath = Get("answersPath"), QuestionsPath = Get("questionsPath"),
        };
    }

    private static IResult Invalid(string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["import"] = [message] }, title: "The import cannot start");

    /// <summary>One page of datasets, newest first.</summary>
    public static async Task<PagedResult<DatasetSummary>> ListAsync(
        SelfTaughtDbContext db, int skip, int take, CancellationToken cancellationToken)
    {
        var query = db.Datasets.AsNoTracking().Where(d => d.Status == DatasetStatus.Ready);
        var total = await query.CountAsync(cancellationToken);
        var items = await query
            .OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id)
            .Skip(skip).Take(take)
            .Select(ToSummary)
            .ToListAsync(cancellationToken);
        return new PagedResult<DatasetSummary>(items, total);
    }

    /// <summary>The projection of a dataset row to its summary, for queries.</summary>
    public static readonly Expression<Func<Dataset, DatasetSummary>> ToSummary = d =>
        new DatasetSummary(d.Id, d.Name, d.Role, d.Preset, d.Source, d.RowCount, d.CreatedAt, d.RejectedCount, d.DuplicateCount);

    /// <summary>A Ready dataset with its import settings and report; null when there is no such dataset.</summary>
    public static async Task<DatasetDetails?> GetDetailsAsync(SelfTaughtDbContext db, long id, CancellationToken cancellationToken)
    {
        var row = await db.Datasets.AsNoTracking()
            .Where(d => d.Id == id && d.Status == DatasetStatus.Ready)
            .Select(d => new
            {
                Dataset = new DatasetSummary(d.Id, d.Name, d.Role, d.Preset, d.Source, d.RowCount, d.CreatedAt, d.RejectedCount, d.DuplicateCount),
                d.SourceConfig, d.SourceSplit, d.SourceRevision, d.ContentHash, d.Description, d.ImportReportJson, d.OptionsJson,
            })
            .SingleOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }

        // Either JSON may be missing (rows stored before reports were kept) or unreadable (written by another version):
        // show what is known and say what could not be read, never fail the page.
        var problems = new List<string>();
        ImportReport? report = null;
        try
        {
            report = ImportReport.FromJson(row.ImportReportJson);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            problems.Add($"The stored import report cannot be read ({ex.Message}).");
        }

        ImportRequest? request = null;
        if (!string.IsNullOrEmpty(row.OptionsJson))
        {
            try
            {
                request = ImportRequest.FromJson(row.OptionsJson);
            }
            catch (ImportException ex)
            {
                problems.Add(ex.Message);
            }
        }

        return new DatasetDetails(
            row.Dataset, row.SourceConfig, row.SourceSplit, row.SourceRevision, row.ContentHash, row.Description,
            Format: report?.Format ?? (request is null ? null : RequestedFormat(request)),
            Columns: report?.Columns ?? (request?.Columns is { } columns ? Describe(columns) : null),
            Filters: report?.Filters ?? (request is null ? null : request.Filters with { Dedupe = request.EffectiveDedupe }),
            Report: report,
            Problem: problems.Count == 0 ? null : string.Join(" ", problems));
    }

    private static string? RequestedFormat(ImportRequest request)
    {
        try
        {
            return ImportFormats.Name(request.ResolveFormat());
        }
        catch (ImportException)
        {
            return null;
        }
    }

    // The columns a request named, keyed by the field they feed as in the report's resolved columns.
    private static Dictionary<string, string> Describe(ColumnMapping columns)
    {
        var fields = new (string Field, string? Column)[]
        {
            ("prompt", columns.Prompt), ("id", columns.Id), ("responseA", columns.Chosen), ("responseB", columns.Rejected),
            ("subset", columns.Subset), ("modelA", columns.ChosenModel), ("modelB", columns.RejectedModel),
            ("language", columns.Language), ("referenceAnswer", columns.ReferenceAnswer),
        };
        return fields.Where(f => !string.IsNullOrWhiteSpace(f.Column)).ToDictionary(f => f.Field, f => f.Column!, StringComparer.Ordinal);
    }
}
