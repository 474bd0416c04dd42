using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Stages;

namespace SelfTaught.Web.Api;

/// <summary>A failed item of a stage run.</summary>
public sealed record StageRunFailureView(long ItemId, string Message, DateTime OccurredAt);

/// <summary>A stage run with its counters, throughput, ETA and latest failures, as the API and the Jobs page show it.</summary>
public sealed record StageRunView(
    long Id, StageKind Kind, StageStatus Status, long? DatasetId, long? ExperimentId, long? IterationId,
    int Total, int Done, int Failed, int Skipped, long PromptTokens, long CompletionTokens,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, string? LastError,
    bool PauseRequested, bool CancelRequested, StageProgress Progress, JsonElement Settings, IReadOnlyList<StageRunFailureView> Failures)
{
    /// <summary>Loads one run with its latest failures; null if there is none.</summary>
    public static async Task<StageRunView?> LoadAsync(SelfTaughtDbContext db, long id, DateTime now, CancellationToken cancellationToken)
    {
        var run = await db.StageRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (run is null) return null;
        var failures = await db.StageRunFailures.AsNoTracking().Where(f => f.StageRunId == id)
            .OrderByDescending(f => f.Id).Take(20)
            .Select(f => new StageRunFailureView(f.ItemId, f.Message, f.OccurredAt)).ToListAsync(cancellationToken);
        return From(run, now, failures);
    }

    /// <summary>Describes <paramref name="run"/>.</summary>
    public static StageRunView From(StageRun run, DateTime now, IReadOnlyList<StageRunFailureView> failures) =>
        new(run.Id, run.Kind, run.Status, run.DatasetId, run.ExperimentId, run.IterationId, run.Total, run.Done, run.Failed, run.Skipped,
            run.PromptTokens, run.CompletionTokens, run.CreatedAt, run.StartedAt, run.FinishedAt, run.LastError, run.PauseRequested,
            run.CancelRequested, StageProgress.From(run, now), JsonDocument.Parse(run.SettingsJson).RootElement.Clone(), failures);
}

/// <summary>The body of <c>POST /api/datasets/{id}/categorize</c>.</summary>
/// <param name="Model">Model that labels the instructions (required).</param>
/// <param name="Endpoint">Endpoint name; omit to spread over every endpoint serving the model.</param>
/// <param name="Temperature">Default 0.</param>
/// <param name="MaxTokens">Default 256.</param>
/// <param name="OnlyMissing">Skip instructions analyzed before. Default true.</param>
public sealed record CategorizeRequest(string Model, string? Endpoint = null, double? Temperature = null, int? MaxTokens = null, bool? OnlyMissing = null);

/// <summary>Stage-run endpoints: status and control, plus starting instruction analysis.</summary>
public static class StageRunsApi
{
    public static RouteGroupBuilder MapStageRunsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/stage-runs").WithTags("Stage runs");

        group.MapGet("/", ListAsync).WithName("ListStageRuns").WithSummary("Stage runs, newest first, server-paged");
        group.MapGet("/{id:long}", GetAsync).WithName("GetStageRun").WithSummary("Status, counters, tokens, throughput, ETA and latest failures");
        group.MapPost("/{id:long}/pause", (long id, StageEngine engine, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken ct) => ControlAsync(id, ct, () => engine.PauseAsync(id, ct), "only a queued or running run can be paused, and an import cannot be paused (cancel it instead)", contexts))
            .WithName("PauseStageRun").WithSummary("Stop taking new items; items in flight finish");
        group.MapPost("/{id:long}/resume", (long id, StageEngine engine, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken ct) => ControlAsync(id, ct, () => engine.ResumeAsync(id, ct), "only a paused run can be resumed", contexts))
            .WithName("ResumeStageRun").WithSummary("Continue a paused run with the items that have no result yet");
        group.MapPost("/{id:long}/cancel", (long id, StageEngine engine, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken ct) => ControlAsync(id, ct, () => engine.CancelAsync(id, ct), "the run has already finished", contexts))
            .WithName("CancelStageRun").WithSummary("Cancel requests in flight and stop; finished items are kept");
        group.MapPost("/{id:long}/retry-failed", (long id, StageEngine engine, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken ct) =>
                ControlAsync(id, ct, async () => await engine.RetryFailedAsync(id, ct) is not null, "a queued, running or cancelling run cannot retry yet", contexts))
            .WithName("RetryFailedStageRunItems").WithSummary("Run the failed items again, and only those");

        api.MapPost("/datasets/{id:long}/categorize", CategorizeAsync)
            .WithTags("Datasets").WithName("CategorizeDataset")
            .WithSummary("Instruction analysis (paper Fig. 7) over a dataset's instructions; returns { stageRunId }");
        return api;
    }

    private static async Task<Ok<PagedResult<StageRunView>>> ListAsync(IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time,
        CancellationToken cancellationToken, int page = 1, int pageSize = Paging.DefaultPageSize)
    {
        page = Math.Max(1, page);
        pageSize = Math.Clamp(pageSize, 1, Paging.MaxPageSize);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var total = await db.StageRuns.CountAsync(cancellationToken);
        var runs = await db.StageRuns.AsNoTracking().OrderByDescending(r => r.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        return TypedResults.Ok(new PagedResult<StageRunView>([.. runs.Select(r => StageRunView.From(r, now, []))], total));
    }

    private static async Task<Results<Ok<StageRunView>, NotFound>> GetAsync(long id, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await StageRunView.LoadAsync(db, id, time.GetUtcNow().UtcDateTime, cancellationToken) is { } view ? TypedResults.Ok(view) : TypedResults.NotFound();
    }

    private static async Task<IResult> ControlAsync(long id, CancellationToken cancellationToken, Func<Task<bool>> action, string conflict,
        IDbContextFactory<SelfTaughtDbContext> contexts)
    {
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
            if (!await db.StageRuns.AnyAsync(r => r.Id == id, cancellationToken))
                return TypedResults.NotFound(new { error = $"Stage run {id} does not exist." });
        return await action() ? TypedResults.Accepted($"/api/stage-runs/{id}", new { stageRunId = id })
            : TypedResults.Conflict(new { error = $"Stage run {id}: {conflict}." });
    }

    private static async Task<Results<Accepted<object>, NotFound<object>, Conflict<object>, ValidationProblem>> CategorizeAsync(long id, CategorizeRequest request,
        IDbContextFactory<SelfTaughtDbContext> contexts, StageEngine engine, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Model))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["model"] = ["Name the model that labels the instructions."] });
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            var dataset = await db.Datasets.AsNoTracking().Where(d => d.Id == id && d.Status == DatasetStatus.Ready)
                .Select(d => new { d.Role }).SingleOrDefaultAsync(cancellationToken);
            if (dataset is null) return TypedResults.NotFound<object>(new { error = $"No dataset {id}." });
            if (!await db.Instructions.AnyAsync(i => i.DatasetId == id, cancellationToken))
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["datasetId"] = [$"Dataset {id} has no instructions to analyze."] });
            StageStatus[] unfinished = [StageStatus.Queued, StageStatus.Running, StageStatus.Paused, StageStatus.Cancelling];
            if (await db.StageRuns.Where(r => r.DatasetId == id && r.Kind == StageKind.Categorize && unfinished.Contains(r.Status))
                    .Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken) is { } active)
                return TypedResults.Conflict<object>(new { error = $"Stage run {active} is still categorizing dataset {id}; wait for it, or cancel it first." });
        }
        var settings = new InstructionAnalysisSettings(request.Model.Trim(), string.IsNullOrWhiteSpace(request.Endpoint) ? null : request.Endpoint.Trim(),
            request.Temperature ?? 0, request.MaxTokens ?? 256, request.OnlyMissing ?? true);
        var run = await engine.CreateAsync(StageKind.Categorize, settings, datasetId: id, cancellationToken: cancellationToken);
        return TypedResults.Accepted<object>($"/api/stage-runs/{run.Id}", new { stageRunId = run.Id });
    }
}
