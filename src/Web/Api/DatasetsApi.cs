using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;
using SelfTaught.Web.Import;

namespace SelfTaught.Web.Api;

/// <summary>A dataset as listed by <c>GET /api/datasets</c> and on the Data page.</summary>
public sealed record DatasetSummary(
    long Id,
    string Name,
    DatasetRole Role,
    string? Preset,
    string? Source,
    int RowCount,
    DateTime CreatedAt);

/// <summary>Dataset endpoints under <c>/api/datasets</c>.</summary>
public static class DatasetsApi
{
    public static RouteGroupBuilder MapDatasetsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets").WithTags("Datasets");

        group.MapGet("/", ListDatasetsAsync)
            .WithName("ListDatasets")
            .WithSummary("Imported datasets, newest first, server-paged");

        group.MapPost("/import", ImportAsync)
            .WithName("ImportDataset")
            .WithSummary("Import a file (multipart upload, or JSON { path, ...options }) or a Hugging Face dataset (JSON { hub, config, split, revision, ...options }) as a stage run; returns { datasetId, stageRunId }")
            .DisableAntiforgery()
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
        bool? Flag(string key) => Get(key) is { } v ? bool.Parse(v) : null;
        int? Number(string key) => Get(key) is { } v ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : null;
        var columns = form.TryGetValue("columns", out var json) && !string.IsNullOrWhiteSpace(json)
            ? System.Text.Json.JsonSerializer.Deserialize<ColumnMapping>(json.ToString(), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))
            : null;
        return new ImportBody
        {
            Name = Get("name"), Path = Get("path"), Hub = Get("hub"), Config = Get("config"), Split = Get("split"), Revision = Get("revision"),
            Format = Get("format"), Preset = Get("preset"),
            Role = Get("role") is { } role ? Enum.Parse<DatasetRole>(role, ignoreCase: true) : null,
            Columns = columns, Turn = Get("turn") is { } turn ? Enum.Parse<TurnSelection>(turn, ignoreCase: true) : null,
            Language = Get("language"), DropToxic = Flag("dropToxic"), DropRedacted = Flag("dropRedacted"),
            MinPromptLength = Number("minPromptLength"), MaxPromptLength = Number("maxPromptLength"),
            MaxResponseLength = Number("maxResponseLength"), Dedupe = Flag("dedupe"), Description = Get("description"),
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
            .Select(d => new DatasetSummary(d.Id, d.Name, d.Role, d.Preset, d.Source, d.RowCount, d.CreatedAt))
            .ToListAsync(cancellationToken);
        return new PagedResult<DatasetSummary>(items, total);
    }
}
