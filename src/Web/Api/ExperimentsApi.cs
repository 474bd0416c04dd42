using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Models;
using SelfTaught.Core.Stages;
using SelfTaught.Inference;

namespace SelfTaught.Web.Api;

/// <summary>An experiment as listed by <c>GET /api/experiments</c> and on the Experiments page.</summary>
public sealed record ExperimentSummary(
    long Id, string Name, long DatasetId, string? DatasetName, ModelReference SeedModel, ModelReference JudgeModel,
    int Iterations, int Pairs, DateTime CreatedAt);

/// <summary>An iteration of an experiment with what has been stored for it so far.</summary>
/// <param name="Number">1-based.</param>
/// <param name="Status">Where the iteration stands.</param>
/// <param name="JudgeModel">M_{i−1}: the judge that annotates this iteration's pairs.</param>
/// <param name="Seed">Seed of the iteration's random choices (derived from the experiment's).</param>
/// <param name="SamplesPerPair">N.</param>
/// <param name="EarlyStop">Whether judging stops at the lowest-index correct sample.</param>
/// <param name="PairsJudged">Pairs with an annotation.</param>
/// <param name="Samples">Judgment samples stored.</param>
/// <param name="CandidateModels">Trained checkpoints registered for this iteration.</param>
/// <param name="CreatedAt">When the iteration was created.</param>
/// <param name="Statistics">Judging statistics over the judgments stored so far (agreement, kept, dropped, parse failures, calls, tokens).</param>
/// <param name="TrainingSet">The training set's statistics as its stage stored them (sizes before and after balancing, label balance); null until built.</param>
public sealed record IterationView(
    int Number, IterationStatus Status, ModelReference JudgeModel, long Seed, int SamplesPerPair, bool EarlyStop,
    int PairsJudged, int Samples, int CandidateModels, DateTime CreatedAt,
    SelfTaught.Core.Judging.JudgingStatistics? Statistics, JsonElement? TrainingSet);

/// <summary>Pairs of an experiment by status.</summary>
public sealed record PairCounts(int Total, int Ready, int Failed, int Pending, int HeldOut);

/// <summary><c>GET /api/experiments/{id}</c>: the experiment, its settings, and its iterations with their statistics.</summary>
public sealed record ExperimentView(
    long Id, string Name, string? Description, long DatasetId, string? DatasetName, int DatasetRows,
    ModelReference SeedModel, ModelReference GeneratorModel, ModelReference JudgeModel, long Seed, ExperimentSettings Settings,
    int SelectedInstructions, int ExcludedInstructions, PairCounts Pairs, IReadOnlyList<IterationView> Iterations, DateTime CreatedAt)
{
    /// <summary>Loads experiment <paramref name="id"/>; null if there is none.</summary>
    public static async Task<ExperimentView?> LoadAsync(SelfTaughtDbContext db, long id, CancellationToken cancellationToken)
    {
        var e = await db.Experiments.AsNoTracking().Where(x => x.Id == id)
            .Select(x => new { Experiment = x, DatasetName = x.InstructionDataset!.Name, DatasetRows = x.InstructionDataset.RowCount })
            .SingleOrDefaultAsync(cancellationToken);
        if (e is null) return null;
        var experiment = e.Experiment;

        var selection = await db.ExperimentInstructions.AsNoTracking().Where(i => i.ExperimentId == id)
            .GroupBy(i => i.Excluded).Select(g => new { Excluded = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var pairs = await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == id)
            .GroupBy(p => new { p.Status, p.HeldOut }).Select(g => new { g.Key.Status, g.Key.HeldOut, Count = g.Count() }).ToListAsync(cancellationToken);
        var rows = await db.Iterations.AsNoTracking().Where(i => i.ExperimentId == id).OrderBy(i => i.Number)
            .Select(i => new
            {
                i.Id, i.StatisticsJson,
                View = new IterationView(
                    i.Number, i.Status, new ModelReference(i.JudgeModel, i.JudgeEndpoint), i.Seed, i.SamplesPerPair, i.EarlyStop,
                    db.Annotations.Count(a => a.IterationId == i.Id),
                    db.JudgmentSamples.Count(s => s.IterationId == i.Id),
                    i.CandidateModels.Count,
                    i.CreatedAt, null, null),
            })
            .ToListAsync(cancellationToken);
        var iterations = new List<IterationView>(rows.Count);
        foreach (var row in rows)
        {
            // Judging statistics over what is stored now; the training set's as its stage stored them.
            var judging = await SelfTaught.Core.Judging.IterationStatistics.ComputeJudgingAsync(db, row.Id, cancellationToken);
            JsonElement? training = null;
            if (!string.IsNullOrWhiteSpace(row.StatisticsJson))
            {
                using var document = JsonDocument.Parse(row.StatisticsJson);
                if (document.RootElement.TryGetProperty("training", out var value)) training = value.Clone();
            }
            iterations.Add(row.View with { Statistics = judging, TrainingSet = training });
        }

        return new ExperimentView(
            experiment.Id, experiment.Name, experiment.Description, experiment.InstructionDatasetId, e.DatasetName, e.DatasetRows,
            new ModelReference(experiment.SeedModel, experiment.SeedEndpoint),
            new ModelReference(experiment.GeneratorModel, experiment.GeneratorEndpoint),
            new ModelReference(experiment.JudgeModel, experiment.JudgeEndpoint),
            experiment.Seed, ExperimentSettings.FromJson(experiment.SettingsJson),
            selection.Where(s => !s.Excluded).Sum(s => s.Count), selection.Where(s => s.Excluded).Sum(s => s.Count),
            new PairCounts(
                pairs.Sum(p => p.Count),
                pairs.Where(p => p.Status == PairStatus.Ready).Sum(p => p.Count),
                pairs.Where(p => p.Status == PairStatus.Failed).Sum(p => p.Count),
                pairs.Where(p => p.Status is not (PairStatus.Ready or PairStatus.Failed)).Sum(p => p.Count),
                pairs.Where(p => p.HeldOut).Sum(p => p.Count)),
            iterations, experiment.CreatedAt);
    }
}

/// <summary>Experiment endpoints under <c>/api/experiments</c>.</summary>
public static class ExperimentsApi
{
    public static RouteGroupBuilder MapExperimentsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/experiments").WithTags("Experiments");

        group.MapGet("/", ListExperimentsAsync).WithName("ListExperiments").WithSummary("Experiments, newest first, server-paged");
        group.MapGet("/{id:long}", GetAsync).WithName("GetExperiment")
            .WithSummary("An experiment with its seed, generator and judge models, settings, and its iterations with their statistics");
        group.MapPost("/", CreateAsync).WithName("CreateExperiment")
            .WithSummary("Create an experiment { name, datasetId, seedModel: { model, endpoint }, generatorModel?, judgeModel?, seed?, settings? } with its first iteration")
            .Accepts<CreateExperimentRequest>("application/json");
        group.MapPost("/{id:long}/stages/select", StartSelectAsync).WithName("StartSelect")
            .WithSummary("Select instructions of the pool by category, complexity, length and language, at most maxCount (seeded), with the contamination check; body: selection settings plus replace; returns { stageRunId }")
            .Accepts<SelectionSettings>("application/json");
        group.MapPost("/{id:long}/stages/select/preview", PreviewSelectAsync).WithName("PreviewSelect")
            .WithSummary("What a selection would pick, before it runs (it calls no model)")
            .Accepts<SelectionSettings>("application/json");
        return api;
    }

    /// <summary>One page of experiments, newest first.</summary>
    public static async Task<PagedResult<ExperimentSummary>> ListAsync(SelfTaughtDbContext db, int skip, int take, CancellationToken cancellationToken)
    {
        var total = await db.Experiments.CountAsync(cancellationToken);
        var rows = await db.Experiments.AsNoTracking()
            .OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id)
            .Skip(skip).Take(take)
            .Select(e => new ExperimentSummary(
                e.Id, e.Name, e.InstructionDatasetId, e.InstructionDataset!.Name,
                new ModelReference(e.SeedModel, e.SeedEndpoint), new ModelReference(e.JudgeModel, e.JudgeEndpoint),
                e.Iterations.Count, e.Pairs.Count, e.CreatedAt))
            .ToListAsync(cancellationToken);
        return new PagedResult<ExperimentSummary>(rows, total);
    }

    private static async Task<Results<Ok<PagedResult<ExperimentSummary>>, ValidationProblem>> ListExperimentsAsync(
        IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken, int page = 1, int pageSize = Paging.DefaultPageSize)
    {
        if (Paging.Validate(page, pageSize) is { } errors) return TypedResults.ValidationProblem(errors);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return TypedResults.Ok(await ListAsync(db, (page - 1) * pageSize, pageSize, cancellationToken));
    }

    private static async Task<Results<Ok<ExperimentView>, NotFound<object>>> GetAsync(
        long id, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await ExperimentView.LoadAsync(db, id, cancellationToken) is { } view
            ? TypedResults.Ok(view)
            : TypedResults.NotFound<object>(new { error = $"Experiment {id} does not exist." });
    }

    private static async Task<Results<Created<ExperimentView>, ValidationProblem>> CreateAsync(
        HttpRequest http, ExperimentService experiments, EndpointRegistry registry, IDbContextFactory<SelfTaughtDbContext> contexts,
        CancellationToken cancellationToken)
    {
        CreateExperimentRequest? body;
        try
        {
            body = await http.ReadFromJsonAsync<CreateExperimentRequest>(cancellationToken);
        }
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException or InvalidOperationException)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The body is not a valid experiment: {ex.Message}"] });
        }
        if (body is null)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["Send a JSON body such as { \"name\": \"wildchat-reasoning\", \"datasetId\": 1, \"seedModel\": { \"model\": \"llama3.1:70b\" } }."] });

        try
        {
            var experiment = await experiments.CreateAsync(body, EndpointExists(registry), cancellationToken);
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var view = await ExperimentView.LoadAsync(db, experiment.Id, cancellationToken);
            return TypedResults.Created($"/api/experiments/{experiment.Id}", view);
        }
        catch (ExperimentValidationException ex)
        {
            return TypedResults.ValidationProblem(ex.Problems.ToDictionary(p => p.Key, p => p.Value));
        }
    }

    private static async Task<IResult> StartSelectAsync(long id, HttpRequest http, ExperimentStages stages, CancellationToken cancellationToken)
    {
        var (settings, replace, error) = await ReadSelectionAsync(http, cancellationToken);
        if (error is not null) return error;
        try
        {
            var run = await stages.StartSelectAsync(id, settings!, replace, cancellationToken);
            return TypedResults.Accepted($"/api/stage-runs/{run.Id}", new { stageRunId = run.Id });
        }
        catch (ExperimentStageException ex)
        {
            return StageProblem(ex);
        }
    }

    private static async Task<IResult> PreviewSelectAsync(long id, HttpRequest http, ExperimentStages stages, CancellationToken cancellationToken)
    {
        var (settings, _, error) = await ReadSelectionAsync(http, cancellationToken);
        if (error is not null) return error;
        try
        {
            return TypedResults.Ok(await stages.PreviewSelectAsync(id, settings!, cancellationToken));
        }
        catch (ExperimentStageException ex)
        {
            return StageProblem(ex);
        }
    }

    internal static IResult StageProblem(ExperimentStageException ex) =>
        ex.NotFound ? TypedResults.NotFound<object>(new { error = ex.Message })
            : ex.Conflict ? TypedResults.Conflict<object>(new { error = ex.Message })
            : TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["settings"] = [ex.Message] });

    // The body is the selection settings plus "replace"; an empty body means the defaults (the whole pool).
    private static async Task<(SelectionSettings? Settings, bool Replace, IResult? Error)> ReadSelectionAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        try
        {
            if (http.ContentLength == 0 || !http.HasJsonContentType()) return (new SelectionSettings(), false, null);
            var body = await http.ReadFromJsonAsync<JsonElement>(cancellationToken);
            if (body.ValueKind != JsonValueKind.Object) throw new JsonException("expected a JSON object");
            var settings = body.Deserialize<SelectionSettings>(SelfTaught.Core.Stages.StageJson.Options) ?? new SelectionSettings();
            var replace = body.TryGetProperty("replace", out var r) && r.ValueKind == JsonValueKind.True;
            return (settings, replace, null);
        }
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException or InvalidOperationException)
        {
            return (null, false, TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The body is not valid selection settings: {ex.Message}"] }));
        }
    }

    /// <summary>Whether an endpoint with that name is configured or stored (names compare ignoring case).</summary>
    public static Func<string, bool> EndpointExists(EndpointRegistry registry) =>
        name => registry.Endpoints.Any(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
}
