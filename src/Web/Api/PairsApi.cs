using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Stages;

namespace SelfTaught.Web.Api;

/// <summary>A pair as <c>GET /api/experiments/{id}/pairs</c> lists it: its texts cut to 300 characters.</summary>
public sealed record PairListItem(
    long Id, PairMethod Method, PairStatus Status, bool HeldOut, string Prompt, string? ModifiedPrompt, string? Chosen, string? Rejected,
    string? Error, int Attempts, long? InstructionId, long? SourceLabeledPairId, DateTime CreatedAt);

/// <summary>A prompt template version a pair names.</summary>
public sealed record TemplateRef(long Id, string Key, int Version);

/// <summary>
/// <c>GET /api/pairs/{id}</c>: one pair in full, x, x′, y_w and y_l, how it was made (method, generator, templates,
/// attempts, tokens, stage run), its status, error and raw output, its held-out flag and its stage details.
/// </summary>
public sealed record PairDetail(
    long Id, long ExperimentId, PairMethod Method, PairStatus Status, bool HeldOut,
    string Prompt, string? ModifiedPrompt, string? Chosen, string? Rejected, string? Error, string? RawOutput, int Attempts,
    long? InstructionId, long? SourceLabeledPairId, string? GeneratorModel, string? GeneratorEndpoint,
    long? TemplateId, long? ResponseTemplateId, TemplateRef? Template, TemplateRef? ResponseTemplate,
    int PromptTokens, int CompletionTokens, long? StageRunId, JsonElement? Details, DateTime CreatedAt)
{
    /// <summary>Loads pair <paramref name="id"/>; null if there is none.</summary>
    public static async Task<PairDetail?> LoadAsync(SelfTaughtDbContext db, long id, CancellationToken cancellationToken)
    {
        var p = await db.Pairs.AsNoTracking().SingleOrDefaultAsync(x => x.Id == id, cancellationToken);
        if (p is null) return null;
        long[] templateIds = [.. new[] { p.TemplateId, p.ResponseTemplateId }.OfType<long>()];
        var templates = await db.PromptTemplates.AsNoTracking().Where(t => templateIds.Contains(t.Id))
            .ToDictionaryAsync(t => t.Id, t => new TemplateRef(t.Id, t.Key, t.Version), cancellationToken);
        JsonElement? details = null;
        if (p.DetailsJson is { Length: > 0 } json)
        {
            using var document = JsonDocument.Parse(json);
            details = document.RootElement.Clone();
        }
        return new PairDetail(p.Id, p.ExperimentId, p.Method, p.Status, p.HeldOut, p.Prompt, p.ModifiedPrompt, p.Chosen, p.Rejected, p.Error,
            p.RawOutput, p.Attempts, p.InstructionId, p.SourceLabeledPairId, p.GeneratorModel, p.GeneratorEndpoint, p.TemplateId, p.ResponseTemplateId,
            p.TemplateId is { } t ? templates.GetValueOrDefault(t) : null, p.ResponseTemplateId is { } r ? templates.GetValueOrDefault(r) : null,
            p.PromptTokens, p.CompletionTokens, p.StageRunId, details, p.CreatedAt);
    }
}

/// <summary>Pairs of one method: how many, and how many are ready, failed and held out.</summary>
public sealed record PairMethodCounts(PairMethod Method, int Total, int Ready, int Failed, int HeldOut);

/// <summary>
/// <c>GET /api/experiments/{id}/pairs/summary</c>: an experiment's pairs by status, method and held-out flag, and its
/// latest <c>generate-pairs</c> run (live progress while it runs).
/// </summary>
/// <param name="Total">Pairs stored.</param>
/// <param name="Ready">Usable pairs.</param>
/// <param name="Failed">Pairs stored as failed (markers missing after every attempt, no graded pair, ...).</param>
/// <param name="Pending">Pairs neither ready nor failed.</param>
/// <param name="HeldOut">Pairs held out of training (any status).</param>
/// <param name="HeldOutReady">Held-out pairs that are ready: the checkpoint-selection set.</param>
/// <param name="Methods">Counts per method.</param>
/// <param name="LatestRun">The latest generate-pairs run of the experiment, if any.</param>
public sealed record PairsSummary(int Total, int Ready, int Failed, int Pending, int HeldOut, int HeldOutReady,
    IReadOnlyList<PairMethodCounts> Methods, StageRunView? LatestRun)
{
    /// <summary>Counts the pairs of experiment <paramref name="experimentId"/>.</summary>
    public static async Task<PairsSummary> LoadAsync(SelfTaughtDbContext db, long experimentId, DateTime now, CancellationToken cancellationToken)
    {
        var groups = await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId)
            .GroupBy(p => new { p.Method, p.Status, p.HeldOut })
            .Select(g => new { g.Key.Method, g.Key.Status, g.Key.HeldOut, Count = g.Count() }).ToListAsync(cancellationToken);
        var methods = groups.GroupBy(g => g.Method).OrderBy(g => g.Key)
            .Select(g => new PairMethodCounts(g.Key, g.Sum(x => x.Count), g.Where(x => x.Status == PairStatus.Ready).Sum(x => x.Count),
                g.Where(x => x.Status == PairStatus.Failed).Sum(x => x.Count), g.Where(x => x.HeldOut).Sum(x => x.Count)))
            .ToList();
        var latest = await db.StageRuns.AsNoTracking().Where(r => r.ExperimentId == experimentId && r.Kind == StageKind.GeneratePairs)
            .OrderByDescending(r => r.Id).Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken);
        return new PairsSummary(
            groups.Sum(g => g.Count),
            groups.Where(g => g.Status == PairStatus.Ready).Sum(g => g.Count),
            groups.Where(g => g.Status == PairStatus.Failed).Sum(g => g.Count),
            groups.Where(g => g.Status is not (PairStatus.Ready or PairStatus.Failed)).Sum(g => g.Count),
            groups.Where(g => g.HeldOut).Sum(g => g.Count),
            groups.Where(g => g.HeldOut && g.Status == PairStatus.Ready).Sum(g => g.Count),
            methods,
            latest is { } runId ? await StageRunView.LoadAsync(db, runId, now, cancellationToken) : null);
    }
}

/// <summary>
/// Pair endpoints: the experiment stage <c>generate-pairs</c> (start and cost estimate), the pairs of an experiment
/// (paged, filtered, and summarized) and one pair in full.
/// </summary>
public static class PairsApi
{
    private const int ExcerptLength = 300;

    public static RouteGroupBuilder MapPairsApi(this RouteGroupBuilder api)
    {
        var experiments = api.MapGroup("/experiments").WithTags("Pairs");
        experiments.MapPost("/{id:long}/stages/generate-pairs", StartAsync).WithName("StartGeneratePairs")
            .WithSummary("Make the experiment's pairs: y_w, then x′ and y_l (Fig. 2) or a worse rewrite (Fig. 10), for each selected instruction, plus labeled " +
                "(hh-rlhf, HelpSteer2) and graded (GSM8K) pairs mixed in. Body: generation settings overrides { method, temperature, topP, maxTokens, " +
                "maxAttempts, heldOutShare, includeSynthetic, gradedSamples, mix: [{ datasetId, kind, count | ratio }] } and replace; returns { stageRunId }")
            .Accepts<GeneratePairsRequest>("application/json")
            .Produces(StatusCodes.Status202Accepted).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        experiments.MapPost("/{id:long}/stages/generate-pairs/estimate", EstimateAsync).WithName("EstimateGeneratePairs")
            .WithSummary("Calls, prompt tokens and the completion-token ceiling generate-pairs would spend, before it starts; same body as the start")
            .Accepts<GeneratePairsRequest>("application/json")
            .Produces<CostEstimate>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        experiments.MapGet("/{id:long}/pairs", ListPairsAsync).WithName("ListExperimentPairs")
            .WithSummary("The experiment's pairs, server-paged, filtered by status (Pending, Ready, Failed), method and heldOut")
            .Produces<PagedResult<PairListItem>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        experiments.MapGet("/{id:long}/pairs/summary", SummaryAsync).WithName("SummarizeExperimentPairs")
            .WithSummary("Counts of the experiment's pairs by status, method and held-out flag, with its latest generate-pairs run")
            .Produces<PairsSummary>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/pairs/{id:long}", GetAsync).WithTags("Pairs").WithName("GetPair")
            .WithSummary("One pair: x, x′, y_w, y_l, method, status, error, raw output, generator, template versions, held-out flag and details")
            .Produces<PairDetail>().ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    /// <summary>One page of an experiment's pairs, by id, with the filters applied.</summary>
    public static async Task<PagedResult<PairListItem>> ListAsync(SelfTaughtDbContext db, long experimentId, PairStatus? status, PairMethod? method,
        bool? heldOut, int skip, int take, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var query = db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId);
        if (status is { } s) query = query.Where(p => p.Status == s);
        if (method is { } m) query = query.Where(p => p.Method == m);
        if (heldOut is { } h) query = query.Where(p => p.HeldOut == h);
        var total = await query.CountAsync(cancellationToken);
        var rows = await query.OrderBy(p => p.Id).Skip(skip).Take(take)
            .Select(p => new PairListItem(p.Id, p.Method, p.Status, p.HeldOut,
                p.Prompt.Substring(0, Math.Min(p.Prompt.Length, ExcerptLength)),
                p.ModifiedPrompt == null ? null : p.ModifiedPrompt.Substring(0, Math.Min(p.ModifiedPrompt.Length, ExcerptLength)),
                p.Chosen == null ? null : p.Chosen.Substring(0, Math.Min(p.Chosen.Length, ExcerptLength)),
                p.Rejected == null ? null : p.Rejected.Substring(0, Math.Min(p.Rejected.Length, ExcerptLength)),
                p.Error, p.Attempts, p.InstructionId, p.SourceLabeledPairId, p.CreatedAt))
            .ToListAsync(cancellationToken);
        return new PagedResult<PairListItem>(rows, total);
    }

    private static async Task<IResult> StartAsync(long id, HttpRequest http, ExperimentStages stages, CancellationToken cancellationToken)
    {
        var (request, error) = await ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        try
        {
            var run = await stages.StartGeneratePairsAsync(id, request!, cancellationToken);
            return TypedResults.Accepted($"/api/stage-runs/{run.Id}", new { stageRunId = run.Id });
        }
        catch (ExperimentStageException ex)
        {
            return StageProblem(ex);
        }
    }

    private static async Task<IResult> EstimateAsync(long id, HttpRequest http, ExperimentStages stages, CancellationToken cancellationToken)
    {
        var (request, error) = await ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        try
        {
            return TypedResults.Ok(await stages.EstimateGeneratePairsAsync(id, request!, cancellationToken));
        }
        catch (ExperimentStageException ex)
        {
            return StageProblem(ex);
        }
    }

    private static async Task<IResult> ListPairsAsync(long id, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken,
        int page = 1, int pageSize = Paging.DefaultPageSize, string? status = null, string? method = null, string? heldOut = null)
    {
        var errors = Paging.Validate(page, pageSize) ?? [];
        var statusFilter = ParseEnum<PairStatus>(status, "status", errors);
        var methodFilter = ParseEnum<PairMethod>(method, "method", errors);
        bool? heldOutFilter = null;
        if (!string.IsNullOrWhiteSpace(heldOut))
        {
            if (bool.TryParse(heldOut, out var h)) heldOutFilter = h;
            else errors["heldOut"] = [$"heldOut must be true or false, not '{heldOut}'."];
        }
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (!await db.Experiments.AnyAsync(e => e.Id == id, cancellationToken)) return NotFound($"Experiment {id} does not exist.");
        return TypedResults.Ok(await ListAsync(db, id, statusFilter, methodFilter, heldOutFilter, (page - 1) * pageSize, pageSize, cancellationToken));
    }

    private static async Task<IResult> SummaryAsync(long id, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (!await db.Experiments.AnyAsync(e => e.Id == id, cancellationToken)) return NotFound($"Experiment {id} does not exist.");
        return TypedResults.Ok(await PairsSummary.LoadAsync(db, id, time.GetUtcNow().UtcDateTime, cancellationToken));
    }

    private static async Task<IResult> GetAsync(long id, IDbContextFactory<SelfTaughtDbContext> contexts, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await PairDetail.LoadAsync(db, id, cancellationToken) is { } pair ? TypedResults.Ok(pair) : NotFound($"Pair {id} does not exist.");
    }

    private static T? ParseEnum<T>(string? value, string name, Dictionary<string, string[]> errors) where T : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        // Names only: a number would slip through Enum.TryParse as an undefined value.
        if (Enum.TryParse<T>(value.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !char.IsDigit(value.Trim()[0])) return parsed;
        errors[name] = [$"{name} must be one of {string.Join(", ", Enum.GetNames<T>())}, not '{value}'."];
        return null;
    }

    // Problem details (RFC 9457) with the message as detail, and as "error" like the other experiment endpoints.
    private static IResult StageProblem(ExperimentStageException ex) =>
        ex.NotFound ? NotFound(ex.Message)
            : ex.Conflict ? TypedResults.Problem(detail: ex.Message, statusCode: StatusCodes.Status409Conflict, title: "The stage cannot start now",
                extensions: new Dictionary<string, object?> { ["error"] = ex.Message })
            : TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["settings"] = [ex.Message] }, detail: ex.Message, title: "The stage cannot start");

    private static ProblemHttpResult NotFound(string message) =>
        TypedResults.Problem(detail: message, statusCode: StatusCodes.Status404NotFound, title: "Not found",
            extensions: new Dictionary<string, object?> { ["error"] = message });

    // The body is the request (generation settings overrides, mix, replace); an empty body means the experiment's settings.
    private static async Task<(GeneratePairsRequest? Request, IResult? Error)> ReadAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        try
        {
            if (http.ContentLength == 0 || !http.HasJsonContentType()) return (new GeneratePairsRequest(), null);
            var body = await http.ReadFromJsonAsync<JsonElement>(cancellationToken);
            if (body.ValueKind != JsonValueKind.Object) throw new JsonException("expected a JSON object");
            return (body.Deserialize<GeneratePairsRequest>(StageJson.Options) ?? new GeneratePairsRequest(), null);
        }
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException or InvalidOperationException)
        {
            return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The body is not a valid generate-pairs request: {ex.Message}"] }));
        }
    }
}
