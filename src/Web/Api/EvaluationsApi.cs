using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Evaluation;

namespace SelfTaught.Web.Api;

/// <summary>An evaluation and its scores (DESIGN §5 <c>GET /api/evaluations/{id}</c>): 0–100, unrounded.</summary>
/// <param name="Id">The evaluation run.</param>
/// <param name="Status">Queued, Running, ... Completed; a failed or cancelled stage run shows here.</param>
/// <param name="Benchmark">The protocol.</param>
/// <param name="Model">The judge model.</param>
/// <param name="ModelDigest">Its identity: Ollama digest or served model id, asked when the run started.</param>
/// <param name="Endpoint">The endpoint named, if any.</param>
/// <param name="CandidateModelId">The candidate checkpoint scored, if any.</param>
/// <param name="DatasetId">The data set evaluated on.</param>
/// <param name="ExperimentId">The experiment whose held-out pairs were used.</param>
/// <param name="TemplateId">The judge template version.</param>
/// <param name="PositionMode">Orders judged.</param>
/// <param name="Samples">k of maj@k.</param>
/// <param name="Temperature">Sampling temperature.</param>
/// <param name="TopP">Nucleus sampling.</param>
/// <param name="MaxTokens">Token limit per judgment.</param>
/// <param name="Seeds">Seeds of the repetitions (the first also seeds the bootstrap).</param>
/// <param name="Options">Protocol options.</param>
/// <param name="Imported">Scored from an uploaded file of external results.</param>
/// <param name="StageRunId">The stage run judging it.</param>
/// <param name="Partial">The scores cover the results stored so far (the run is not complete).</param>
/// <param name="Overall">RewardBench Overall, or accuracy averaged over orders.</param>
/// <param name="Sections">RewardBench sections.</param>
/// <param name="Subsets">Score per subset.</param>
/// <param name="SubsetDetails">Per subset: score, examples, official weight, parse errors.</param>
/// <param name="Errors">Parse errors, unresolved votes, exclusions, examples not judged.</param>
/// <param name="PositionBias">Accuracy with the chosen response as A vs B.</param>
/// <param name="LengthBias">Accuracy with the chosen response longer vs shorter.</param>
/// <param name="Accuracy">Per-order accuracies, average and position consistency.</param>
/// <param name="Intervals">Bootstrap 95% intervals.</param>
/// <param name="Examples">Examples in the set.</param>
/// <param name="Judged">Examples judged.</param>
/// <param name="Filtered">Rows left out by the protocol, by reason.</param>
/// <param name="MissingSubsets">RewardBench subsets with no judged example.</param>
/// <param name="CreatedAt">When it was started (UTC).</param>
/// <param name="CompletedAt">When its scores were stored (UTC).</param>
public sealed record EvaluationView(
    long Id, StageStatus Status, BenchmarkKind Benchmark, string Model, string? ModelDigest, string? Endpoint, long? CandidateModelId,
    long? DatasetId, long? ExperimentId, long? TemplateId, PositionMode PositionMode, int Samples, double Temperature, double TopP, int MaxTokens,
    IReadOnlyList<long> Seeds, EvaluationOptions Options, bool Imported, long? StageRunId, bool Partial,
    double? Overall, IReadOnlyDictionary<string, double> Sections, IReadOnlyDictionary<string, double?> Subsets,
    IReadOnlyDictionary<string, SubsetScore> SubsetDetails, EvaluationErrors Errors, PositionBias PositionBias, LengthBias LengthBias,
    OrderAccuracy Accuracy, EvaluationIntervals Intervals, int Examples, int Judged, IReadOnlyDictionary<string, int> Filtered,
    IReadOnlyList<string> MissingSubsets, DateTime CreatedAt, DateTime? CompletedAt);

/// <summary>An evaluation in the list.</summary>
/// <param name="Id">The evaluation run.</param>
/// <param name="Benchmark">The protocol.</param>
/// <param name="Model">The judge model.</param>
/// <param name="ModelDigest">Its identity.</param>
/// <param name="DatasetId">The data set.</param>
/// <param name="ExperimentId">The experiment (held-out pairs).</param>
/// <param name="CandidateModelId">The candidate scored.</param>
/// <param name="PositionMode">Orders judged.</param>
/// <param name="Samples">k of maj@k.</param>
/// <param name="Status">Status of the run.</param>
/// <param name="Imported">Scored from external results.</param>
/// <param name="Overall">Overall score once complete.</param>
/// <param name="CreatedAt">When it was started.</param>
public sealed record EvaluationListItem(long Id, BenchmarkKind Benchmark, string Model, string? ModelDigest, long? DatasetId, long? ExperimentId,
    long? CandidateModelId, PositionMode PositionMode, int Samples, StageStatus Status, bool Imported, double? Overall, DateTime CreatedAt);

/// <summary>One stored judge output of an evaluation.</summary>
/// <param name="ExampleKey">The example.</param>
/// <param name="Subset">Its subset.</param>
/// <param name="ChosenPosition">Where the chosen response was shown.</param>
/// <param name="SampleIndex">Repetition × samples + sample.</param>
/// <param name="Verdict">Lenient verdict; Invalid is a parse error; null for an imported score.</param>
/// <param name="Score">Score of this output.</param>
/// <param name="RawCompletion">The judge's raw output.</param>
/// <param name="RequestSeed">The request's seed.</param>
/// <param name="Error">Why the verdict is invalid.</param>
public sealed record EvaluationResultView(string ExampleKey, string? Subset, Position ChosenPosition, int SampleIndex, Verdict? Verdict, double Score,
    string? RawCompletion, long? RequestSeed, string? Error);

/// <summary>Evaluation routes (DESIGN §5): start, import external results, list, scores and per-example results.</summary>
public static class EvaluationsApi
{
    /// <summary>Largest page of the list and result routes.</summary>
    public const int MaxPageSize = 500;

    /// <summary>Maps the routes under <c>/api</c>.</summary>
    public static RouteGroupBuilder MapEvaluationsApi(this RouteGroupBuilder api)
    {
        api.MapPost("/evaluations", StartAsync).WithTags("Evaluations")
            .WithSummary("Start an evaluation: RewardBench, MT-Bench agreement, HelpSteer2 or a pair set (or an experiment's held-out pairs) for a model or candidate checkpoint.");
        api.MapPost("/evaluations/import", ImportAsync).WithTags("Evaluations").DisableAntiforgery()
            .WithSummary("Score a JSONL file of per-example outcomes produced elsewhere (subset, id, and score or verdict + chosenPosition).");
        api.MapGet("/evaluations", ListAsync).WithTags("Evaluations").WithSummary("Evaluations, newest first, paged.");
        api.MapGet("/evaluations/{id:long}", GetAsync).WithTags("Evaluations")
            .WithSummary("An evaluation's scores on a 0–100 scale, unrounded: overall, sections, subsets, errors, position and length bias, intervals.");
        api.MapGet("/evaluations/{id:long}/results", ResultsAsync).WithTags("Evaluations")
            .WithSummary("An evaluation's stored judge outputs, paged, optionally of one subset or example.");
        return api;
    }

    private static IResult Problem(EvaluationException ex) =>
        ex.NotFound ? TypedResults.NotFound<object>(new { error = ex.Message })
            : ex.Conflict ? TypedResults.Conflict<object>(new { error = ex.Message })
            : TypedResults.BadRequest<object>(new { error = ex.Message });

    private static async Task<IResult> StartAsync(HttpRequest http, EvaluationService evaluations, CancellationToken cancellationToken)
    {
        EvaluationRequest? request;
        try
        {
            request = await http.ReadFromJsonAsync<EvaluationRequest>(cancellationToken);
        }
        catch (JsonException ex)
        {
            return TypedResults.BadRequest<object>(new { error = $"The body is not an evaluation request: {ex.Message}" });
        }
        if (request is null) return TypedResults.BadRequest<object>(new { error = "The body is empty." });
        try
        {
            var started = await evaluations.StartAsync(request, cancellationToken);
            return TypedResults.Created($"/api/evaluations/{started.EvaluationId}", started);
        }
        catch (EvaluationException ex)
        {
            return Problem(ex);
        }
    }

    private static async Task<IResult> ImportAsync(HttpRequest http, EvaluationService evaluations, IDbContextFactory<SelfTaughtDbContext> contexts,
        CancellationToken cancellationToken)
    {
        if (!http.HasFormContentType)
            return TypedResults.BadRequest<object>(new { error = "Send multipart/form-data with a JSONL 'file' and the fields benchmark, datasetId and modelName." });
        var form = await http.ReadFormAsync(cancellationToken);
        var file = form.Files.GetFile("file") ?? form.Files.FirstOrDefault();
        if (file is null) return TypedResults.BadRequest<object>(new { error = "No file: attach the JSONL of per-example results as 'file'." });
        if (!TryBenchmark(form["benchmark"].ToString(), out var benchmark))
            return TypedResults.BadRequest<object>(new { error = $"benchmark '{form["benchmark"]}' is not one of rewardbench, mtbench, helpsteer2, pairs." });
        if (!long.TryParse(form["datasetId"], out var datasetId))
            return TypedResults.BadRequest<object>(new { error = "datasetId is required: the data set the results are for." });
        var allowMissing = bool.TryParse(form["allowMissing"], out var allow) && allow;
        try
        {
            await using var stream = file.OpenReadStream();
            var id = await evaluations.ImportAsync(benchmark, datasetId, form["modelName"].ToString(), stream, allowMissing, cancellationToken);
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            return TypedResults.Created($"/api/evaluations/{id}", await ViewAsync(db, id, cancellationToken));
        }
        catch (EvaluationException ex)
        {
            return Problem(ex);
        }
    }

    private static bool TryBenchmark(string text, out BenchmarkKind benchmark)
    {
        benchmark = default;
        try
        {
            benchmark = JsonSerializer.Deserialize<BenchmarkKind>($"\"{text.Trim()}\"", Core.Stages.StageJson.Options);
            return true;
        }
        catch (JsonException)
        {
            return Enum.TryParse(text, ignoreCase: true, out benchmark) && Enum.IsDefined(benchmark);
        }
    }

    private static async Task<IResult> ListAsync(IDbContextFactory<SelfTaughtDbContext> contexts, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var (p, size) = (Math.Max(1, page ?? 1), Math.Clamp(pageSize ?? 50, 1, MaxPageSize));
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var total = await db.EvaluationRuns.CountAsync(cancellationToken);
        var runs = await db.EvaluationRuns.AsNoTracking().OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Skip((p - 1) * size).Take(size).ToListAsync(cancellationToken);
        var items = runs.Select(r => new EvaluationListItem(r.Id, r.Benchmark, r.Model, r.ModelDigest, r.DatasetId, r.ExperimentId, r.CandidateModelId,
            r.PositionMode, r.Samples, r.Status, r.Imported, EvaluationSummaries.Read(r)?.Overall, r.CreatedAt)).ToList();
        return TypedResults.Ok(new PagedResult<EvaluationListItem>(items, total));
    }

    private static async Task<IResult> GetAsync(long id, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var view = await ViewAsync(db, id, cancellationToken);
        return view is null ? TypedResults.NotFound<object>(new { error = $"Evaluation {id} does not exist." }) : TypedResults.Ok(view);
    }

    /// <summary>An evaluation with its stored scores, or scores over the results so far while it runs.</summary>
    internal static async Task<EvaluationView?> ViewAsync(SelfTaughtDbContext db, long id, CancellationToken cancellationToken)
    {
        var run = await db.EvaluationRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (run is null) return null;
        var stageStatus = run.StageRunId is { } stageRunId
            ? await db.StageRuns.AsNoTracking().Where(s => s.Id == stageRunId).Select(s => (StageStatus?)s.Status).SingleOrDefaultAsync(cancellationToken)
            : null;
        var status = run.Status == StageStatus.Completed ? StageStatus.Completed : stageStatus ?? run.Status;
        var stored = EvaluationSummaries.Read(run);
        var summary = stored ?? await EvaluationSummaries.ComputeAsync(db, run, cancellationToken);
        return new EvaluationView(run.Id, status, run.Benchmark, run.Model, run.ModelDigest, run.Endpoint, run.CandidateModelId, run.DatasetId,
            run.ExperimentId, run.TemplateId, run.PositionMode, run.Samples, run.Temperature, run.TopP, run.MaxTokens, EvaluationSummaries.SeedsOf(run),
            EvaluationOptions.FromJson(run.OptionsJson), run.Imported, run.StageRunId, stored is null,
            summary.Overall, summary.Sections, summary.Subsets.ToDictionary(s => s.Key, s => s.Value.Score, StringComparer.Ordinal), summary.Subsets,
            summary.Errors, summary.PositionBias, summary.LengthBias, summary.Accuracy, summary.Intervals, summary.Examples, summary.Judged,
            summary.Filtered, summary.MissingSubsets, run.CreatedAt, run.CompletedAt);
    }

    private static async Task<IResult> ResultsAsync(long id, IDbContextFactory<SelfTaughtDbContext> contexts, string? subset, string? example, int? page, int? pageSize,
        CancellationToken cancellationToken)
    {
        var (p, size) = (Math.Max(1, page ?? 1), Math.Clamp(pageSize ?? 100, 1, MaxPageSize));
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (!await db.EvaluationRuns.AnyAsync(r => r.Id == id, cancellationToken))
            return TypedResults.NotFound<object>(new { error = $"Evaluation {id} does not exist." });
        var query = db.EvaluationResults.AsNoTracking().Where(r => r.EvaluationRunId == id);
        if (!string.IsNullOrEmpty(subset)) query = query.Where(r => r.Subset == subset);
        if (!string.IsNullOrEmpty(example)) query = query.Where(r => r.ExampleKey == example);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderBy(r => r.Id).Skip((p - 1) * size).Take(size)
            .Select(r => new EvaluationResultView(r.ExampleKey, r.Subset, r.ChosenPosition, r.SampleIndex, r.Verdict, r.Score, r.RawCompletion, r.RequestSeed, r.Error))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<EvaluationResultView>(items, total));
    }
}
