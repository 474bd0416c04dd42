using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using static System.FormattableString;

namespace SelfTaught.Core.Prompts;

/// <summary>Why a template operation was refused.</summary>
public enum TemplateProblemKind
{
    /// <summary>The request is malformed or breaks a rule (400).</summary>
    Invalid,

    /// <summary>A template, experiment or iteration does not exist (404).</summary>
    NotFound,

    /// <summary>What is stored forbids it: a built-in, a used version, identical content, judgments already made (409).</summary>
    Conflict,
}

/// <summary>A refused template operation, with a message that names the problem.</summary>
/// <param name="message">What is wrong and what to do.</param>
/// <param name="kind">How the API answers it.</param>
/// <param name="errors">Problems by field, for <see cref="TemplateProblemKind.Invalid"/> edits.</param>
public sealed class PromptTemplateException(string message, TemplateProblemKind kind, IReadOnlyDictionary<string, string[]>? errors = null) : Exception(message)
{
    /// <summary>How the API answers it.</summary>
    public TemplateProblemKind Kind { get; } = kind;

    /// <summary>Problems by field (<c>name</c>, <c>systemText</c>, <c>userText</c>, <c>templateId</c>); at least one entry.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors ?? new Dictionary<string, string[]> { ["template"] = [message] };
}

/// <summary>
/// How many stored records name a template version. Judgment samples are not counted here (each belongs to an
/// annotation, which is), though a sample alone would also keep a version from being deleted.
/// </summary>
/// <param name="Instructions">Instructions analyzed with it.</param>
/// <param name="SynthesisPairs">Pairs whose y_l it made (pair synthesis or worse-response rewrite).</param>
/// <param name="ResponsePairs">Pairs whose y_w it generated.</param>
/// <param name="Annotations">Pairs judged with it.</param>
/// <param name="Iterations">Iterations whose judge template it is.</param>
/// <param name="Evaluations">Evaluation runs that used it.</param>
/// <param name="Experiments">Experiments whose generation settings name it.</param>
public sealed record TemplateUsage(int Instructions, int SynthesisPairs, int ResponsePairs, int Annotations, int Iterations, int Evaluations, int Experiments)
{
    /// <summary>Not used anywhere.</summary>
    public static TemplateUsage None { get; } = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>All records counted.</summary>
    public int Total => Instructions + SynthesisPairs + ResponsePairs + Annotations + Iterations + Evaluations + Experiments;

    /// <summary>The counts in words, e.g. "120 annotations, 1 iteration"; "not used" when there are none.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        void Add(int count, string one, string many)
        {
            if (count > 0) parts.Add(Invariant($"{count:N0} {(count == 1 ? one : many)}"));
        }
        Add(Instructions, "analyzed instruction", "analyzed instructions");
        Add(SynthesisPairs, "pair (y_l)", "pairs (y_l)");
        Add(ResponsePairs, "pair (y_w)", "pairs (y_w)");
        Add(Annotations, "judged pair", "judged pairs");
        Add(Iterations, "iteration's judge", "iterations' judge");
        Add(Evaluations, "evaluation", "evaluations");
        Add(Experiments, "experiment's generation settings", "experiments' generation settings");
        return parts.Count == 0 ? "not used" : string.Join(", ", parts);
    }
}

/// <summary>A template version as listed.</summary>
/// <param name="Id">Row id (what records store).</param>
/// <param name="Key">Family.</param>
/// <param name="Version">Version within the family.</param>
/// <param name="Name">Name.</param>
/// <param name="Source">Where the text comes from.</param>
/// <param name="IsBuiltIn">Registered from the embedded files; never edited nor deleted.</param>
/// <param name="ParentId">The version it was copied from.</param>
/// <param name="ParentVersion">That version's number.</param>
/// <param name="ContentHash">SHA-256 of system and user text.</param>
/// <param name="Placeholders">Placeholders of its texts.</param>
/// <param name="Usage">Stored records that name it.</param>
/// <param name="CreatedAt">When it was stored (UTC).</param>
public sealed record TemplateSummary(long Id, string Key, int Version, string Name, string? Source, bool IsBuiltIn, long? ParentId, int? ParentVersion,
    string ContentHash, IReadOnlyList<string> Placeholders, TemplateUsage Usage, DateTime CreatedAt)
{
    /// <summary>Custom and not used by any record counted in <see cref="Usage"/>.</summary>
    public bool Deletable => !IsBuiltIn && Usage.Total == 0;
}

/// <summary>One version with its texts.</summary>
/// <param name="Summary">Listing fields.</param>
/// <param name="SystemText">System message, if any.</param>
/// <param name="UserText">User message.</param>
/// <param name="RequiredPlaceholders">What a copy's user text must contain.</param>
public sealed record TemplateDetail(TemplateSummary Summary, string? SystemText, string UserText, IReadOnlyList<string> RequiredPlaceholders);

/// <summary>A template family: its versions, newest first.</summary>
/// <param name="Key">Family key.</param>
/// <param name="RequiredPlaceholders">The placeholders its stage fills.</param>
/// <param name="Versions">Newest first.</param>
public sealed record TemplateFamily(string Key, IReadOnlyList<string> RequiredPlaceholders, IReadOnlyList<TemplateSummary> Versions);

/// <summary>An iteration's judge template after a change.</summary>
/// <param name="Iteration">Iteration number.</param>
/// <param name="TemplateId">The chosen version; null for the built-in (fixed when judging starts).</param>
/// <param name="Version">Its version number, if chosen.</param>
/// <param name="Name">Its name, if chosen.</param>
public sealed record IterationJudgeTemplate(int Iteration, long? TemplateId, int? Version, string? Name);

/// <summary>
/// Prompt templates as users manage them on the Settings page: list the versions of each family, copy a version into a
/// new edited one (checked by <see cref="PromptTemplateRules"/>), delete unused custom versions, and choose the judge
/// template of an iteration before it judges. Built-in versions are never changed or deleted, and a version that any
/// stored record names is never deleted, so every record keeps the exact text it was made with.
/// </summary>
public sealed class PromptTemplateService(IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time)
{
    private static readonly StageStatus[] Unfinished = [StageStatus.Queued, StageStatus.Running, StageStatus.Paused, StageStatus.Cancelling];

    /// <summary>Every stored version, by family (families in key order, versions newest first).</summary>
    public async Task<IReadOnlyList<TemplateFamily>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.PromptTemplates.AsNoTracking().OrderBy(t => t.Key).ThenByDescending(t => t.Version).ToListAsync(cancellationToken);
        var usage = await UsageAsync(db, null, cancellationToken);
        var versions = rows.ToDictionary(r => r.Id, r => r.Version);
        return [.. rows.GroupBy(r => r.Key, StringComparer.Ordinal).Select(g => new TemplateFamily(
            g.Key, PromptTemplateRules.RequiredPlaceholders(g.Key, g.Last().UserText),
            [.. g.Select(r => Summarize(r, versions, usage))]))];
    }

    /// <summary>Version <paramref name="id"/> with its texts; null when there is none.</summary>
    public async Task<TemplateDetail?> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.PromptTemplates.AsNoTracking().SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        return row is null ? null : await DetailAsync(db, row, cancellationToken);
    }

    /// <summary>Checks <paramref name="edit"/> as a copy of <paramref name="source"/> (pure; for live validation in the editor).</summary>
    public static TemplateCheck Check(PromptTemplate source, TemplateEdit edit)
    {
        ArgumentNullException.ThrowIfNull(source);
        return PromptTemplateRules.Check(source.Key, PromptTemplateRules.RequiredPlaceholders(source.Key, source.UserText), edit);
    }

    /// <summary>
    /// Stores <paramref name="edit"/> as a new custom version of the family of template <paramref name="sourceId"/>
    /// (version = the family's highest + 1, parent = the source). Nothing is stored when it is refused.
    /// </summary>
    /// <exception cref="PromptTemplateException">Unknown source (NotFound), an invalid edit (Invalid, by field), or the same text as a stored version (Conflict, naming it).</exception>
    public async Task<TemplateDetail> CopyAsync(long sourceId, TemplateEdit edit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(edit);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var source = await db.PromptTemplates.AsNoTracking().SingleOrDefaultAsync(t => t.Id == sourceId, cancellationToken)
            ?? throw new PromptTemplateException($"Prompt template {sourceId} does not exist.", TemplateProblemKind.NotFound);
        var check = Check(source, edit);
        if (!check.Ok) throw new PromptTemplateException(check.Message, TemplateProblemKind.Invalid, check.Errors);

        var system = PromptTemplateRules.NormalizeSystemText(edit.SystemText);
        var user = PromptTemplateRules.NormalizeText(edit.UserText);
        var hash = PromptTemplateRules.ContentHash(system, user);
        // Retry on the (Key, Version) key: another copy of the same family may take the number between read and insert.
        for (var attempt = 1; ; attempt++)
        {
            var same = await db.PromptTemplates.AsNoTracking().Where(t => t.Key == source.Key && t.ContentHash == hash)
                .OrderBy(t => t.Version).Select(t => new { t.Version, t.Name }).FirstOrDefaultAsync(cancellationToken);
            if (same is not null)
                throw new PromptTemplateException(
                    $"The text is identical to version {same.Version} of {source.Key} (“{same.Name}”); use that version, or change the text.",
                    TemplateProblemKind.Conflict, new Dictionary<string, string[]> { ["userText"] = [$"identical to version {same.Version} of {source.Key}."] });
            var version = (await db.PromptTemplates.Where(t => t.Key == source.Key).MaxAsync(t => (int?)t.Version, cancellationToken) ?? 0) + 1;
            var row = new PromptTemplate
            {
                Key = source.Key, Version = version, Name = edit.Name!.Trim(), SystemText = system, UserText = user, IsBuiltIn = false,
                ParentId = source.Id, ContentHash = hash, CreatedAt = time.GetUtcNow().UtcDateTime,
                Source = $"Copy of version {source.Version} (“{source.Name}”), edited on the Settings page.",
            };
            db.PromptTemplates.Add(row);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return await DetailAsync(db, row, cancellationToken);
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>Deletes custom version <paramref name="id"/>, which no record may name and no other version may have been copied from.</summary>
    /// <exception cref="PromptTemplateException">Unknown (NotFound); built-in, used, or the parent of another version (Conflict, saying where).</exception>
    public async Task DeleteAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var row = await db.PromptTemplates.SingleOrDefaultAsync(t => t.Id == id, cancellationToken)
            ?? throw new PromptTemplateException($"Prompt template {id} does not exist.", TemplateProblemKind.NotFound);
        var label = $"Version {row.Version} of {row.Key} (“{row.Name}”)";
        if (row.IsBuiltIn)
            throw new PromptTemplateException($"{label} is built in: built-in templates are never changed or deleted.", TemplateProblemKind.Conflict);

        var usage = (await UsageAsync(db, id, cancellationToken)).GetValueOrDefault(id, TemplateUsage.None);
        var samples = await db.JudgmentSamples.AnyAsync(s => s.TemplateId == id, cancellationToken);
        if (usage.Total > 0 || samples)
        {
            var where = await WhereUsedAsync(db, id, usage, samples, cancellationToken);
            throw new PromptTemplateException($"{label} is used by {where}, so it stays: those records name the exact text they were made with.", TemplateProblemKind.Conflict);
        }
        var children = await db.PromptTemplates.Where(t => t.ParentId == id).OrderBy(t => t.Version).Select(t => t.Version).ToListAsync(cancellationToken);
        if (children.Count > 0)
            throw new PromptTemplateException(
                $"{label} is the parent of version{(children.Count == 1 ? "" : "s")} {string.Join(", ", children)}, which were copied from it; delete those first to keep their lineage.",
                TemplateProblemKind.Conflict);

        db.PromptTemplates.Remove(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A foreign key refused it: a record started naming the version between the check and the delete.
            throw new PromptTemplateException($"{label} has just been used by a new record, so it stays.", TemplateProblemKind.Conflict);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Chooses the judge template of iteration <paramref name="iterationNumber"/>: a <c>judge-pairwise</c> version, or
    /// null for the current built-in. Allowed only while the iteration has no judgments and no judge run in progress,
    /// so all of one iteration's judgments share one template.
    /// </summary>
    /// <exception cref="PromptTemplateException">Unknown experiment, iteration or template (NotFound); another family (Invalid); judgments exist or a judge run is under way (Conflict).</exception>
    public async Task<IterationJudgeTemplate> SetIterationJudgeTemplateAsync(long experimentId, int iterationNumber, long? templateId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (!await db.Experiments.AnyAsync(e => e.Id == experimentId, cancellationToken))
            throw new PromptTemplateException($"Experiment {experimentId} does not exist.", TemplateProblemKind.NotFound);
        var iteration = await db.Iterations.SingleOrDefaultAsync(i => i.ExperimentId == experimentId && i.Number == iterationNumber, cancellationToken)
            ?? throw new PromptTemplateException($"Experiment {experimentId} has no iteration {iterationNumber}.", TemplateProblemKind.NotFound);
        PromptTemplate? template = null;
        if (templateId is { } tid)
        {
            template = await db.PromptTemplates.AsNoTracking().SingleOrDefaultAsync(t => t.Id == tid, cancellationToken)
                ?? throw new PromptTemplateException($"Prompt template {tid} does not exist.", TemplateProblemKind.NotFound);
            if (template.Key != PromptLibrary.JudgePairwise)
                throw new PromptTemplateException(
                    $"Template {tid} is version {template.Version} of {template.Key}; an iteration's judge needs a {PromptLibrary.JudgePairwise} template.",
                    TemplateProblemKind.Invalid, new Dictionary<string, string[]> { ["templateId"] = [$"template {tid} is a {template.Key} template, not {PromptLibrary.JudgePairwise}."] });
        }
        if (iteration.JudgeTemplateId == templateId) return Result(iteration.Number, template);

        var judged = await db.Annotations.CountAsync(a => a.IterationId == iteration.Id, cancellationToken);
        if (judged > 0)
            throw new PromptTemplateException(
                $"Iteration {iterationNumber} has already judged {judged:N0} pair{(judged == 1 ? "" : "s")} with its template; its judge template can no longer change (all judgments of an iteration share one template).",
                TemplateProblemKind.Conflict);
        if (await db.StageRuns.AnyAsync(r => r.IterationId == iteration.Id && r.Kind == StageKind.Judge && Unfinished.Contains(r.Status), cancellationToken))
            throw new PromptTemplateException(
                $"Iteration {iterationNumber} is being judged; cancel that run before changing its judge template.", TemplateProblemKind.Conflict);
        iteration.JudgeTemplateId = templateId;
        await db.SaveChangesAsync(cancellationToken);
        return Result(iteration.Number, template);

        static IterationJudgeTemplate Result(int number, PromptTemplate? template) => new(number, template?.Id, template?.Version, template?.Name);
    }

    private static async Task<TemplateDetail> DetailAsync(SelfTaughtDbContext db, PromptTemplate row, CancellationToken cancellationToken)
    {
        var usage = await UsageAsync(db, row.Id, cancellationToken);
        var versions = new Dictionary<long, int> { [row.Id] = row.Version };
        if (row.ParentId is { } parentId && await db.PromptTemplates.AsNoTracking().Where(t => t.Id == parentId).Select(t => (int?)t.Version).SingleOrDefaultAsync(cancellationToken) is { } parentVersion)
            versions[parentId] = parentVersion;
        return new TemplateDetail(Summarize(row, versions, usage), row.SystemText, row.UserText, PromptTemplateRules.RequiredPlaceholders(row.Key, row.UserText));
    }

    private static TemplateSummary Summarize(PromptTemplate row, IReadOnlyDictionary<long, int> versions, IReadOnlyDictionary<long, TemplateUsage> usage) =>
        new(row.Id, row.Key, row.Version, row.Name, row.Source, row.IsBuiltIn, row.ParentId,
            row.ParentId is { } parent && versions.TryGetValue(parent, out var parentVersion) ? parentVersion : null,
            row.ContentHash, new PromptText(row.Key, row.Name, row.Source ?? "", row.SystemText, row.UserText).Placeholders,
            usage.GetValueOrDefault(row.Id, TemplateUsage.None), row.CreatedAt);

    // Grouped counts per template (one query per referencing column, each over its foreign-key index), for one
    // template or all of them.
    private static async Task<Dictionary<long, TemplateUsage>> UsageAsync(SelfTaughtDbContext db, long? only, CancellationToken cancellationToken)
    {
        async Task<Dictionary<long, int>> Count(IQueryable<long?> ids)
        {
            var used = ids.Where(i => i != null);
            if (only is { } id) used = used.Where(i => i == id);
            return await used.GroupBy(i => i!.Value).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        }
        var instructions = await Count(db.Instructions.Select(i => i.AnalysisTemplateId));
        var synthesis = await Count(db.Pairs.Select(p => p.TemplateId));
        var responses = await Count(db.Pairs.Select(p => p.ResponseTemplateId));
        var annotations = await Count(db.Annotations.Select(a => a.TemplateId));
        var iterations = await Count(db.Iterations.Select(i => i.JudgeTemplateId));
        var evaluations = await Count(db.EvaluationRuns.Select(e => e.TemplateId));
        var experiments = (await ExperimentReferencesAsync(db, cancellationToken))
            .SelectMany(e => e.TemplateIds.Distinct()).Where(t => only is null || t == only)
            .GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());

        var keys = instructions.Keys.Concat(synthesis.Keys).Concat(responses.Keys).Concat(annotations.Keys)
            .Concat(iterations.Keys).Concat(evaluations.Keys).Concat(experiments.Keys).Distinct();
        return keys.ToDictionary(k => k, k => new TemplateUsage(
            instructions.GetValueOrDefault(k), synthesis.GetValueOrDefault(k), responses.GetValueOrDefault(k), annotations.GetValueOrDefault(k),
            iterations.GetValueOrDefault(k), evaluations.GetValueOrDefault(k), experiments.GetValueOrDefault(k)));
    }

    // Experiments are few and name templates inside their settings JSON, so they are read whole.
    private static async Task<List<(long Id, string Name, List<long> TemplateIds)>> ExperimentReferencesAsync(SelfTaughtDbContext db, CancellationToken cancellationToken)
    {
        var experiments = await db.Experiments.AsNoTracking().Select(e => new { e.Id, e.Name, e.SettingsJson }).ToListAsync(cancellationToken);
        var result = new List<(long, string, List<long>)>();
        foreach (var experiment in experiments)
        {
            GenerationSettings generation;
            try
            {
                generation = ExperimentSettings.FromJson(experiment.SettingsJson).Generation ?? new();
            }
            catch (JsonException)
            {
                continue; // Unreadable settings name nothing the pipeline could use either.
            }
            var ids = new[] { generation.ResponseTemplateId, generation.SynthesisTemplateId }.OfType<long>().ToList();
            if (ids.Count > 0) result.Add((experiment.Id, experiment.Name, ids));
        }
        return result;
    }

    // Where a template is used, in words, with examples a user can find ("iteration 2 of experiment 4 ('paper')").
    private static async Task<string> WhereUsedAsync(SelfTaughtDbContext db, long id, TemplateUsage usage, bool samples, CancellationToken cancellationToken)
    {
        var parts = new List<string>();
        if (usage.Iterations > 0)
        {
            var iterations = await db.Iterations.AsNoTracking().Where(i => i.JudgeTemplateId == id).OrderBy(i => i.ExperimentId).ThenBy(i => i.Number).Take(5)
                .Select(i => new { i.Number, i.ExperimentId, i.Experiment!.Name }).ToListAsync(cancellationToken);
            parts.Add("the judge of " + string.Join(", ", iterations.Select(i => $"iteration {i.Number} of experiment {i.ExperimentId} (“{i.Name}”)"))
                + (usage.Iterations > iterations.Count ? Invariant($" and {usage.Iterations - iterations.Count} more iterations") : ""));
        }
        if (usage.Experiments > 0)
        {
            var experiments = (await ExperimentReferencesAsync(db, cancellationToken)).Where(e => e.TemplateIds.Contains(id)).Take(5);
            parts.Add("the generation settings of " + string.Join(", ", experiments.Select(e => $"experiment {e.Id} (“{e.Name}”)")));
        }
        var counted = usage with { Iterations = 0, Experiments = 0 };
        if (counted.Total > 0) parts.Add(counted.Describe());
        if (samples && usage.Annotations == 0) parts.Add("judgment samples");
        return string.Join("; ", parts);
    }
}
