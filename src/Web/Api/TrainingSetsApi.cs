using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Training;

namespace SelfTaught.Web.Api;

/// <summary>One stored training set (SFT or DPO) of an iteration.</summary>
/// <param name="Size">Rows.</param>
/// <param name="GoldA">Rows whose correct verdict is A.</param>
/// <param name="GoldB">Rows whose correct verdict is B.</param>
/// <param name="OverMaxLength">Rows flagged as longer than the training max length.</param>
/// <param name="Sha256">SHA-256 of its JSONL file.</param>
public sealed record TrainingSetPart(int Size, int GoldA, int GoldB, int OverMaxLength, string? Sha256);

/// <summary><c>GET /api/experiments/{id}/iterations/{n}/training-set</c>: what the iteration's training set holds, and where to download it.</summary>
/// <param name="ExperimentId">The experiment.</param>
/// <param name="Iteration">1-based iteration number.</param>
/// <param name="IterationStatus">Where the iteration stands.</param>
/// <param name="Built">Whether a training set is stored.</param>
/// <param name="StageRunId">The run that built it.</param>
/// <param name="CreatedAt">When it was stored.</param>
/// <param name="Sft">The SFT set (the OpenAI file holds the same rows).</param>
/// <param name="Dpo">The DPO set.</param>
/// <param name="Manifest">The manifest: counts, seeds, settings and file hashes.</param>
/// <param name="Downloads">Download routes by name: sft, dpo, openai, manifest.</param>
public sealed record TrainingSetSummary(
    long ExperimentId, int Iteration, IterationStatus IterationStatus, bool Built, long? StageRunId, DateTime? CreatedAt,
    TrainingSetPart? Sft, TrainingSetPart? Dpo, TrainingManifest? Manifest, IReadOnlyDictionary<string, string> Downloads)
{
    /// <summary>The download route of export <paramref name="name"/> (sft, dpo, openai or manifest).</summary>
    public static string DownloadPath(long experimentId, int iteration, string name) => $"/api/experiments/{experimentId}/iterations/{iteration}/training-set/{name}";

    /// <summary>Loads the training set of iteration <paramref name="iteration"/>; null when the experiment has no such iteration.</summary>
    public static async Task<TrainingSetSummary?> LoadAsync(SelfTaughtDbContext db, long experimentId, int iteration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var found = await db.Iterations.AsNoTracking().Where(i => i.ExperimentId == experimentId && i.Number == iteration)
            .Select(i => new { i.Id, i.Status }).SingleOrDefaultAsync(cancellationToken);
        if (found is null) return null;
        var sets = await db.TrainingSets.AsNoTracking().Where(t => t.IterationId == found.Id).ToListAsync(cancellationToken);
        var sft = sets.FirstOrDefault(s => s.Kind == TrainingSetKind.Sft);
        var dpo = sets.FirstOrDefault(s => s.Kind == TrainingSetKind.Dpo);
        static TrainingSetPart? Part(TrainingSet? set) => set is null ? null : new(set.Size, set.GoldACount, set.GoldBCount, set.OverMaxLengthCount, set.ContentHash);
        var downloads = sft is null
            ? new Dictionary<string, string>()
            : TrainingSetsApi.Exports.Keys.Append(TrainingSetsApi.ManifestName).ToDictionary(k => k, k => DownloadPath(experimentId, iteration, k));
        return new TrainingSetSummary(experimentId, iteration, found.Status, sft is not null, sft?.StageRunId, sft?.CreatedAt, Part(sft), Part(dpo),
            sft is null ? null : TrainingManifest.FromJson(sft.ManifestJson), downloads);
    }
}

/// <summary>The iteration stage <c>build-training-set</c> and the downloads of its exports.</summary>
public static class TrainingSetsApi
{
    /// <summary>Name of the manifest download.</summary>
    public const string ManifestName = "manifest";

    /// <summary>JSONL exports by download name: the file and what it holds.</summary>
    public static readonly IReadOnlyDictionary<string, string> Exports = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sft"] = TrainingFiles.Sft,
        ["dpo"] = TrainingFiles.Dpo,
        ["openai"] = TrainingFiles.OpenAi,
    };

    /// <summary>Media type of the JSONL downloads.</summary>
    public const string JsonLinesType = "application/jsonl";

    /// <summary>Maps the <c>build-training-set</c> stage route, its estimate, the training-set summary and the downloads.</summary>
    public static RouteGroupBuilder MapTrainingSetsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/experiments/{id:long}/iterations/{n:int}").WithTags("Training sets");
        group.MapPost("/stages/build-training-set", StartAsync).WithName("StartBuildTrainingSet")
            .WithSummary("Build the iteration's training set from its kept judgments (balanced by truncation, seeded; held-out pairs never enter); optional body { maxLengthTokens, excludeOverMaxLength }; returns { stageRunId }")
            .Accepts<BuildTrainingSetRequest>("application/json");
        group.MapGet("/stages/build-training-set/estimate", EstimateAsync).WithName("EstimateBuildTrainingSet")
            .WithSummary("What building the training set costs: no model calls; items = kept judgments of pairs not held out");
        group.MapGet("/training-set", GetAsync).WithName("GetTrainingSet")
            .WithSummary("The iteration's training set: sizes, label counts, over-length rows, the manifest and download links");
        group.MapGet("/training-set/manifest", ManifestAsync).WithName("DownloadTrainingSetManifest")
            .WithSummary("manifest.json: counts per label, pairs dropped, parse failures, seeds, models, template versions and SHA-256 of each file");
        group.MapGet("/training-set/{kind}", DownloadAsync).WithName("DownloadTrainingSet")
            .WithSummary("An export as a JSONL download: sft (TRL prompt-completion), dpo (TRL preference) or openai (OpenAI fine-tuning chat)");
        return api;
    }

    private static async Task<IResult> StartAsync(long id, int n, HttpRequest http, ExperimentStages stages, CancellationToken cancellationToken)
    {
        BuildTrainingSetRequest? request = null;
        try
        {
            if (http.ContentLength != 0 && http.HasJsonContentType())
            {
                var body = await http.ReadFromJsonAsync<JsonElement>(cancellationToken);
                if (body.ValueKind != JsonValueKind.Object) throw new JsonException("expected a JSON object such as { \"maxLengthTokens\": 4096 }");
                request = body.Deserialize<BuildTrainingSetRequest>(SelfTaught.Core.Stages.StageJson.Options);
            }
        }
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException or InvalidOperationException)
        {
            return Problem(StatusCodes.Status400BadRequest, $"The body is not valid training-set settings: {ex.Message}");
        }
        try
        {
            var run = await stages.StartBuildTrainingSetAsync(id, n, request, cancellationToken);
            return TypedResults.Accepted($"/api/stage-runs/{run.Id}", new { stageRunId = run.Id });
        }
        catch (ExperimentStageException ex)
        {
            return Problem(ex.NotFound ? StatusCodes.Status404NotFound : ex.Conflict ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest, ex.Message);
        }
    }

    private static async Task<IResult> EstimateAsync(long id, int n, ExperimentStages stages, CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(await stages.EstimateBuildTrainingSetAsync(id, n, cancellationToken));
        }
        catch (ExperimentStageException ex)
        {
            return Problem(ex.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest, ex.Message);
        }
    }

    private static async Task<IResult> GetAsync(long id, int n, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await TrainingSetSummary.LoadAsync(db, id, n, cancellationToken) is { } summary
            ? TypedResults.Ok(summary)
            : await NoIterationAsync(db, id, n, cancellationToken);
    }

    private static async Task<IResult> ManifestAsync(long id, int n, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var (iteration, problem) = await FindBuiltAsync(db, id, n, cancellationToken);
        if (problem is not null) return problem;
        // The stored manifest is the one written to manifest.json, byte for byte; the database keeps it if the file is lost.
        var json = await db.TrainingSets.AsNoTracking().Where(t => t.IterationId == iteration && t.Kind == TrainingSetKind.Sft)
            .Select(t => t.ManifestJson).SingleAsync(cancellationToken);
        return TypedResults.File(Encoding.UTF8.GetBytes(json), "application/json", $"experiment-{id}-iteration-{n}-manifest.json");
    }

    private static async Task<IResult> DownloadAsync(long id, int n, string kind, IDbContextFactory<SelfTaughtDbContext> contexts,
        IOptions<TrainingExportOptions> options, CancellationToken cancellationToken)
    {
        if (!Exports.TryGetValue(kind, out var file))
            return Problem(StatusCodes.Status404NotFound, $"There is no '{kind}' export; use sft, dpo, openai or manifest.");
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var (_, problem) = await FindBuiltAsync(db, id, n, cancellationToken);
        if (problem is not null) return problem;
        var path = Path.Combine(options.Value.IterationFolder(id, n), file);
        if (!File.Exists(path))
            return Problem(StatusCodes.Status404NotFound,
                $"The {file} export of iteration {n} of experiment {id} is missing from the export folder (Exports:Folder); build the training set again to rewrite it.");
        return TypedResults.PhysicalFile(path, JsonLinesType, $"experiment-{id}-iteration-{n}-{Path.GetFileNameWithoutExtension(file)}.jsonl");
    }

    private static async Task<(long IterationId, IResult? Problem)> FindBuiltAsync(SelfTaughtDbContext db, long id, int n, CancellationToken cancellationToken)
    {
        var iteration = await db.Iterations.AsNoTracking().Where(i => i.ExperimentId == id && i.Number == n).Select(i => (long?)i.Id).SingleOrDefaultAsync(cancellationToken);
        if (iteration is null) return (0, await NoIterationAsync(db, id, n, cancellationToken));
        if (!await db.TrainingSets.AnyAsync(t => t.IterationId == iteration && t.Kind == TrainingSetKind.Sft, cancellationToken))
            return (iteration.Value, Problem(StatusCodes.Status404NotFound,
                $"Iteration {n} of experiment {id} has no training set yet; build it with POST /api/experiments/{id}/iterations/{n}/stages/build-training-set."));
        return (iteration.Value, null);
    }

    private static async Task<IResult> NoIterationAsync(SelfTaughtDbContext db, long id, int n, CancellationToken cancellationToken) =>
        Problem(StatusCodes.Status404NotFound, await db.Experiments.AnyAsync(e => e.Id == id, cancellationToken)
            ? $"Experiment {id} has no iteration {n}."
            : $"Experiment {id} does not exist.");

    private static IResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status, title: status switch
    {
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status409Conflict => "Conflict",
        _ => "Bad request",
    });
}
