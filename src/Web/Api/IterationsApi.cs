using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Judging;
using SelfTaught.Core.Models;

namespace SelfTaught.Web.Api;

/// <summary>A candidate model of an iteration as the API shows it.</summary>
/// <param name="Id">Candidate id (for <c>.../models/{id}/choose</c>).</param>
/// <param name="Name">Display name.</param>
/// <param name="Model">Model and endpoint.</param>
/// <param name="Checkpoint">Training step, if given.</param>
/// <param name="IsChosen">Chosen as M_i.</param>
/// <param name="Notes">Free text.</param>
/// <param name="CreatedAt">Registration time (UTC).</param>
public sealed record CandidateView(long Id, string Name, ModelReference Model, int? Checkpoint, bool IsChosen, string? Notes, DateTime CreatedAt);

/// <summary>One iteration with its judge, settings, statistics (computed from what is stored now) and candidate models.</summary>
/// <param name="Number">1-based number.</param>
/// <param name="Status">Where the iteration stands.</param>
/// <param name="JudgeModel">M_{i-1}: the experiment's judge for iteration 1, else the previous iteration's chosen model.</param>
/// <param name="Seed">The iteration's seed (placements, request seeds, kept samples derive from it).</param>
/// <param name="Judging">The judging settings the iteration uses.</param>
/// <param name="Statistics">Judging statistics over the annotations stored so far.</param>
/// <param name="Candidates">Registered checkpoints.</param>
/// <param name="StatisticsJson">Everything stored in the iteration's statistics (judging, training set), as JSON.</param>
public sealed record IterationDetail(int Number, IterationStatus Status, ModelReference JudgeModel, long Seed, JudgingSettings Judging,
    JudgingStatistics Statistics, IReadOnlyList<CandidateView> Candidates, JsonElement? StatisticsJson);

/// <summary>A pair's judgment in one iteration: the placement, the rendered prompt and every sample.</summary>
/// <param name="Iteration">Iteration number.</param>
/// <param name="ChosenPosition">Where y_w was shown; the synthetic label.</param>
/// <param name="Status">Kept, Dropped or Failed.</param>
/// <param name="KeptSampleIndex">The kept correct sample.</param>
/// <param name="FullN">Judged with all N samples.</param>
/// <param name="JudgePrompt">The user prompt the judge saw.</param>
/// <param name="Samples">Every sample in index order.</param>
public sealed record PairJudgments(int Iteration, Position ChosenPosition, AnnotationStatus Status, int? KeptSampleIndex, bool FullN, string JudgePrompt,
    IReadOnlyList<SampleView> Samples);

/// <summary>One judgment sample.</summary>
/// <param name="Index">Sample index.</param>
/// <param name="Verdict">Strictly parsed verdict.</param>
/// <param name="Correct">Agrees with the synthetic label.</param>
/// <param name="Text">Raw completion.</param>
/// <param name="Model">Model identity the server answered with.</param>
/// <param name="RequestSeed">The request's seed.</param>
/// <param name="ChoiceIndex">Choice within an n-batched request.</param>
/// <param name="CompletionTokens">Tokens (on a request's first choice).</param>
/// <param name="Error">Why the verdict is invalid, if it is.</param>
public sealed record SampleView(int Index, Verdict? Verdict, bool? Correct, string? Text, string? Model, long? RequestSeed, int ChoiceIndex, int? CompletionTokens, string? Error);

/// <summary>Iteration routes: the judge stage, statistics, candidate models and the choice of M_i (DESIGN §5).</summary>
public static class IterationsApi
{
    /// <summary>Maps the routes under <c>/api</c>.</summary>
    public static RouteGroupBuilder MapIterationsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/experiments/{id:long}/iterations/{n:int}").WithTags("Iterations");
        group.MapGet("/", GetAsync).WithName("GetIteration")
            .WithSummary("An iteration: judge, settings, statistics and candidate models");
        group.MapPost("/stages/judge", StartJudgeAsync).WithName("StartJudge")
            .WithSummary("Judge the experiment's ready pairs with the iteration's judge (rejection sampling); optional body overrides N, sampling and early stop before the first judgments");
        group.MapPost("/stages/judge/estimate", EstimateJudgeAsync).WithName("EstimateJudge")
            .WithSummary("Calls and tokens the judge stage would use, before it starts");
        group.MapPost("/models", RegisterAsync).WithName("RegisterCandidateModel")
            .WithSummary("Register a trained checkpoint (endpoint + model) as a candidate model of the iteration");
        group.MapPost("/models/{modelId:long}/choose", ChooseAsync).WithName("ChooseCandidateModel")
            .WithSummary("Choose a candidate as M_i; iteration i+1 is then judged by it");
        // Stage names not mapped elsewhere: a 404 that names the stages there are. The known names are excluded by the
        // constraint, not left to route precedence: a POST without a body would otherwise prefer these routes.
        api.MapPost("/experiments/{id:long}/stages/{stage:regex(^(?!(select|generate-pairs)$).*$)}", (string stage) => TypedResults.NotFound<object>(
                new { error = $"There is no experiment stage '{stage}'; experiment stages are select and generate-pairs (iteration stages: judge, build-training-set)." }))
            .WithTags("Experiments").ExcludeFromDescription();
        api.MapPost("/experiments/{id:long}/iterations/{n:int}/stages/{stage:regex(^(?!(judge|build-training-set)$).*$)}", (string stage) => TypedResults.NotFound<object>(
                new { error = $"There is no iteration stage '{stage}'; iteration stages are judge and build-training-set (experiment stages: select, generate-pairs)." }))
            .WithTags("Iterations").ExcludeFromDescription();
        api.MapGet("/pairs/{pairId:long}/judgments", JudgmentsAsync).WithTags("Iterations").WithName("GetPairJudgments")
            .WithSummary("A pair's judgment samples in one iteration (?iteration=n, default the latest that judged it)");
        return api;
    }

    private static async Task<IResult> GetAsync(long id, int n, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var iteration = await db.Iterations.AsNoTracking().SingleOrDefaultAsync(i => i.ExperimentId == id && i.Number == n, cancellationToken);
        if (iteration is null) return TypedResults.NotFound<object>(new { error = $"Experiment {id} has no iteration {n}." });
        var candidates = await db.CandidateModels.AsNoTracking().Where(c => c.IterationId == iteration.Id).OrderBy(c => c.Id)
            .Select(c => new CandidateView(c.Id, c.Name, new ModelReference(c.Model, c.Endpoint), c.Checkpoint, c.IsChosen, c.Notes, c.CreatedAt))
            .ToListAsync(cancellationToken);
        JsonElement? stored = string.IsNullOrWhiteSpace(iteration.StatisticsJson) ? null : JsonDocument.Parse(iteration.StatisticsJson).RootElement.Clone();
        return TypedResults.Ok(new IterationDetail(iteration.Number, iteration.Status, new ModelReference(iteration.JudgeModel, iteration.JudgeEndpoint),
            iteration.Seed, ExperimentSettings.FromJson(iteration.SettingsJson).Judging,
            await IterationStatistics.ComputeJudgingAsync(db, iteration.Id, cancellationToken), candidates, stored));
    }

    private static async Task<IResult> StartJudgeAsync(long id, int n, HttpRequest http, IterationService iterations, CancellationToken cancellationToken)
    {
        var (overrides, error) = await ReadAsync<JudgeOverrides>(http, "judging overrides", cancellationToken);
        if (error is not null) return error;
        try
        {
            var run = await iterations.StartJudgeAsync(id, n, overrides, cancellationToken);
            return TypedResults.Accepted($"/api/stage-runs/{run.Id}", new { stageRunId = run.Id });
        }
        catch (ExperimentStageException ex)
        {
            return ExperimentsApi.StageProblem(ex);
        }
    }

    private static async Task<IResult> EstimateJudgeAsync(long id, int n, HttpRequest http, IterationService iterations, CancellationToken cancellationToken)
    {
        var (overrides, error) = await ReadAsync<JudgeOverrides>(http, "judging overrides", cancellationToken);
        if (error is not null) return error;
        try
        {
            return TypedResults.Ok(await iterations.EstimateJudgeAsync(id, n, overrides, cancellationToken));
        }
        catch (ExperimentStageException ex)
        {
            return ExperimentsApi.StageProblem(ex);
        }
    }

    private static async Task<IResult> RegisterAsync(long id, int n, HttpRequest http, IterationService iterations, CancellationToken cancellationToken)
    {
        var (registration, error) = await ReadAsync<CandidateRegistration>(http, "candidate model", cancellationToken);
        if (error is not null) return error;
        if (registration is null)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["Send { \"name\": \"iteration 1, step 400\", \"model\": \"judge-it1\", \"endpoint\": null }."] });
        try
        {
            var candidate = await iterations.RegisterCandidateAsync(id, n, registration, cancellationToken);
            return TypedResults.Created($"/api/experiments/{id}/iterations/{n}",
                new CandidateView(candidate.Id, candidate.Name, new ModelReference(candidate.Model, candidate.Endpoint), candidate.Checkpoint, candidate.IsChosen, candidate.Notes, candidate.CreatedAt));
        }
        catch (ExperimentStageException ex)
        {
            return ExperimentsApi.StageProblem(ex);
        }
    }

    private static async Task<IResult> ChooseAsync(long id, int n, long modelId, IterationService iterations, CancellationToken cancellationToken)
    {
        try
        {
            var next = await iterations.ChooseCandidateAsync(id, n, modelId, cancellationToken);
            return TypedResults.Ok(new { nextIteration = next.Number, judgeModel = new ModelReference(next.JudgeModel, next.JudgeEndpoint) });
        }
        catch (ExperimentStageException ex)
        {
            return ExperimentsApi.StageProblem(ex);
        }
    }

    private static async Task<IResult> JudgmentsAsync(long pairId, int? iteration, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var annotations = db.Annotations.AsNoTracking().Where(a => a.PairId == pairId);
        if (iteration is { } number) annotations = annotations.Where(a => a.Iteration!.Number == number);
        var annotation = await annotations.OrderByDescending(a => a.Iteration!.Number)
            .Select(a => new { a.Id, a.Iteration!.Number, a.ChosenPosition, a.Status, a.KeptSampleIndex, a.FullN, a.JudgePrompt })
            .FirstOrDefaultAsync(cancellationToken);
        if (annotation is null)
            return TypedResults.NotFound<object>(new { error = iteration is null ? $"Pair {pairId} has not been judged." : $"Pair {pairId} was not judged in iteration {iteration}." });
        var samples = await db.JudgmentSamples.AsNoTracking().Where(s => s.AnnotationId == annotation.Id).OrderBy(s => s.SampleIndex)
            .Select(s => new SampleView(s.SampleIndex, s.Verdict, s.Correct, s.RawCompletion, s.Model, s.RequestSeed, s.ChoiceIndex, s.CompletionTokens, s.Error))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PairJudgments(annotation.Number, annotation.ChosenPosition, annotation.Status, annotation.KeptSampleIndex, annotation.FullN, annotation.JudgePrompt, samples));
    }

    /// <summary>Reads an optional JSON body; an empty body is null, a malformed one a 400 naming the problem.</summary>
    private static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest http, string what, CancellationToken cancellationToken) where T : class
    {
        if (http.ContentLength is 0 || (http.ContentLength is null && !http.HasJsonContentType())) return (null, null);
        try
        {
            return (await http.ReadFromJsonAsync<T>(cancellationToken), null);
        }
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException or InvalidOperationException)
        {
            return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The body is not valid {what}: {ex.Message}"] }));
        }
    }
}
