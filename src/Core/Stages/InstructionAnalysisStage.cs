using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Models;
using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Stages;

/// <summary>Settings of an instruction-analysis run (paper Fig. 7).</summary>
/// <param name="Model">Model that labels the instructions.</param>
/// <param name="Endpoint">Endpoint to use; null spreads over every endpoint serving the model.</param>
/// <param name="Temperature">Sampling temperature. Default 0 (greedy).</param>
/// <param name="MaxTokens">Completion budget. Default 256: the answer is three short lines.</param>
/// <param name="OnlyMissing">Skip instructions already analyzed by an earlier run. Default true.</param>
public sealed record InstructionAnalysisSettings(string Model, string? Endpoint = null, double Temperature = 0, int MaxTokens = 256, bool OnlyMissing = true);

/// <summary>
/// Labels each instruction of a dataset with Category, Complexity (1–10) and Length (a–e) using the paper's Fig. 7
/// prompt. Unparsable answers are stored with their raw text and the parse error, never dropped.
/// </summary>
public sealed class InstructionAnalysisStage(IModelResolver models, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time) : IStage
{
    /// <inheritdoc />
    public StageKind Kind => StageKind.Categorize;

    /// <inheritdoc />
    public async Task<IStageExecution> PrepareAsync(SelfTaughtDbContext db, StageRun run, CancellationToken cancellationToken)
    {
        var settings = System.Text.Json.JsonSerializer.Deserialize<InstructionAnalysisSettings>(run.SettingsJson, StageJson.Options)
            ?? throw new StageException("The run has no settings.");
        if (run.DatasetId is not { } datasetId || !await db.Datasets.AnyAsync(d => d.Id == datasetId && d.Status == DatasetStatus.Ready, cancellationToken))
            throw new StageException($"Dataset {run.DatasetId} does not exist or is still importing.");
        ResolvedModel model;
        try
        {
            model = models.Resolve(new ModelReference(settings.Model, settings.Endpoint));
        }
        catch (ModelResolutionException ex)
        {
            throw new StageException(ex.Message, ex);
        }
        var template = await PromptTemplateStore.EnsureBuiltInAsync(db, PromptLibrary.InstructionAnalysis, time.GetUtcNow().UtcDateTime, cancellationToken);
        return new Execution(run.Id, datasetId, settings, model, template, contexts, time);
    }

    private sealed record Analysis(InstructionAnalysis Parsed, string Raw, string? ModelId);

    private sealed class Execution(long runId, long datasetId, InstructionAnalysisSettings settings, ResolvedModel model,
        PromptTemplate template, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time) : IStageExecution
    {
        // Twice the endpoint capacity keeps the limiter's queue full without holding many texts in memory.
        public int Parallelism => Math.Max(1, model.Capabilities.MaxConcurrentRequests * 2);

        public async Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, CancellationToken cancellationToken) =>
            await db.Instructions.AsNoTracking().Where(i => i.DatasetId == datasetId).OrderBy(i => i.Id).Select(i => i.Id).ToListAsync(cancellationToken);

        public async Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, long firstItemId, long lastItemId, CancellationToken cancellationToken)
        {
            // A seek on the primary key alone: with the dataset in the WHERE clause as well, SQLite prefers the
            // (DatasetId, RowIndex) index and walks the whole dataset. The id range holds this chunk's rows, plus any of
            // another dataset imported at the same time, which are dropped here.
            var rows = await db.Instructions.AsNoTracking().Where(i => i.Id >= firstItemId && i.Id <= lastItemId).OrderBy(i => i.Id)
                .Select(i => new { i.Id, i.DatasetId }).ToListAsync(cancellationToken);
            return [.. rows.Where(r => r.DatasetId == datasetId).Select(r => r.Id)];
        }

        public async Task<IReadOnlySet<long>> StoredAsync(SelfTaughtDbContext db, IReadOnlyCollection<long> items, CancellationToken cancellationToken)
        {
            var stored = new HashSet<long>();
            foreach (var chunk in items.Chunk(5_000))
            {
                var query = db.Instructions.AsNoTracking().Where(i => chunk.Contains(i.Id));
                query = settings.OnlyMissing ? query.Where(i => i.AnalyzedAt != null) : query.Where(i => i.AnalysisStageRunId == runId);
                stored.UnionWith(await query.Select(i => i.Id).ToListAsync(cancellationToken));
            }
            return stored;
        }

        public async Task<ItemOutcome> ProcessAsync(long itemId, CancellationToken cancellationToken)
        {
            string? instruction;
            // One short-lived context per read keeps this safe under the chunk's parallelism.
            await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
                instruction = await db.Instructions.AsNoTracking().Where(i => i.Id == itemId).Select(i => i.Text).SingleOrDefaultAsync(cancellationToken);
            if (instruction is null) return new ItemOutcome(itemId, $"Instruction {itemId} no longer exists.", 0, 0, null);
            var prompt = PromptText.Render(template.UserText, new Dictionary<string, string> { ["instruction"] = instruction });
            List<ChatMessage> messages = template.SystemText is { } system
                ? [new(ChatRole.System, system), new(ChatRole.User, prompt)]
                : [new(ChatRole.User, prompt)];
            try
            {
                var response = await model.Client.GetResponseAsync(messages,
                    new ChatOptions { Temperature = (float)settings.Temperature, MaxOutputTokens = settings.MaxTokens }, cancellationToken);
                var usage = CallUsage.From(response);
                return new ItemOutcome(itemId, null, usage.PromptTokens ?? 0, usage.CompletionTokens ?? 0,
                    new Analysis(InstructionAnalysisParser.Parse(response.Text), response.Text, usage.Model));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new ItemOutcome(itemId, ex.Message, 0, 0, null);
            }
        }

        public async Task WriteAsync(SelfTaughtDbContext db, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var ids = outcomes.Select(o => o.ItemId).ToList();
            var rows = await db.Instructions.Where(i => ids.Contains(i.Id)).ToDictionaryAsync(i => i.Id, cancellationToken);
            foreach (var outcome in outcomes)
            {
                if (!rows.TryGetValue(outcome.ItemId, out var row) || outcome.Result is not Analysis analysis) continue;
                row.Category = analysis.Parsed.Category;
                row.Complexity = analysis.Parsed.Complexity;
                row.LengthBucket = analysis.Parsed.Length;
                row.AnalysisError = analysis.Parsed.Error;
                row.AnalysisRawOutput = analysis.Raw;
                row.AnalysisModel = analysis.ModelId ?? settings.Model;
                row.AnalysisTemplateId = template.Id;
                row.AnalyzedAt = now;
                row.AnalysisStageRunId = runId;
            }
            await db.SaveChangesAsync(cancellationToken);
        }
    }
}
