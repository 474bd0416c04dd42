using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Evaluation;
using SelfTaught.Core.Models;
using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Stages;

/// <summary>Settings of an evaluation stage run: the evaluation it fills (everything else is on the evaluation run).</summary>
/// <param name="EvaluationRunId">The evaluation run.</param>
public sealed record EvaluateRunSettings(long EvaluationRunId);

/// <summary>
/// Judges the examples of an evaluation run (DESIGN §1 step 6): each example in the orders of the run's position mode,
/// with k samples each (maj@k; one greedy sample otherwise), once per seed, with the Fig. 8 pairwise prompt. Every
/// output is stored with its raw text, lenient verdict, order, sample index and request seed; an example whose calls
/// fail is recorded as failed and stores nothing, so "retry failed" redoes it whole with the same seeds. When every
/// example is done, the run's scores are computed and stored (<see cref="EvaluationSummaries"/>).
/// </summary>
public sealed class EvaluateStage(IModelResolver models, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time) : IStage
{
    /// <inheritdoc />
    public StageKind Kind => StageKind.Evaluate;

    /// <inheritdoc />
    public async Task<IStageExecution> PrepareAsync(SelfTaughtDbContext db, StageRun run, CancellationToken cancellationToken)
    {
        var settings = JsonSerializer.Deserialize<EvaluateRunSettings>(run.SettingsJson, StageJson.Options)
            ?? throw new StageException("The run has no settings.");
        var evaluation = await db.EvaluationRuns.AsNoTracking().SingleOrDefaultAsync(e => e.Id == settings.EvaluationRunId, cancellationToken)
            ?? throw new StageException($"Evaluation {settings.EvaluationRunId} does not exist.");
        if (evaluation.Samples < 1) throw new StageException("The evaluation asks for no samples.");
        ResolvedModel model;
        try
        {
            model = models.Resolve(new ModelReference(evaluation.Model, evaluation.Endpoint));
        }
        catch (ModelResolutionException ex)
        {
            throw new StageException(ex.Message, ex);
        }
        PromptTemplate template;
        try
        {
            template = await PromptTemplateStore.ChosenOrBuiltInAsync(db, evaluation.TemplateId, PromptLibrary.JudgePairwise, time.GetUtcNow().UtcDateTime, cancellationToken);
        }
        catch (PromptTemplateException ex)
        {
            throw new StageException($"The evaluation's judge template: {ex.Message}", ex);
        }
        await db.EvaluationRuns.Where(e => e.Id == evaluation.Id && e.Status != StageStatus.Completed)
            .ExecuteUpdateAsync(u => u.SetProperty(e => e.Status, StageStatus.Running), cancellationToken);
        return new Execution(evaluation, EvaluationSummaries.SeedsOf(evaluation), model, template, contexts, time);
    }

    private sealed class Execution(EvaluationRun evaluation, IReadOnlyList<long> seeds, ResolvedModel model, PromptTemplate template,
        IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time) : IStageExecution
    {
        private readonly int _choicesPerRequest = evaluation.Samples > 1 && model.Capabilities.AcceptsN ? evaluation.Samples : 1;

        // Requests of one example: orders × seeds × ⌈k / choices⌉, all in flight at once.
        public int Parallelism
        {
            get
            {
                var orders = evaluation.PositionMode == PositionMode.Both ? 2 : 1;
                var perExample = orders * seeds.Count * ((evaluation.Samples + _choicesPerRequest - 1) / _choicesPerRequest);
                return Math.Max(1, model.Capabilities.MaxConcurrentRequests * 2 / Math.Max(1, perExample));
            }
        }

        public async Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, CancellationToken cancellationToken) =>
            (await EvaluationSets.LoadAsync(db, evaluation, null, null, cancellationToken)).Items.Select(i => i.Id).ToList();

        public async Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, long firstItemId, long lastItemId, CancellationToken cancellationToken) =>
            (await EvaluationSets.LoadAsync(db, evaluation, firstItemId, lastItemId, cancellationToken)).Items.Select(i => i.Id).ToList();

        public async Task<IReadOnlySet<long>> StoredAsync(SelfTaughtDbContext db, IReadOnlyCollection<long> items, CancellationToken cancellationToken)
        {
            var stored = new HashSet<long>();
            var heldOut = evaluation.DatasetId is null;
            foreach (var chunk in items.Chunk(5_000))
            {
                var results = db.EvaluationResults.AsNoTracking().Where(r => r.EvaluationRunId == evaluation.Id);
                stored.UnionWith(heldOut
                    ? await results.Where(r => r.PairId != null && chunk.Contains(r.PairId.Value)).Select(r => r.PairId!.Value).Distinct().ToListAsync(cancellationToken)
                    : await results.Where(r => r.LabeledPairId != null && chunk.Contains(r.LabeledPairId.Value)).Select(r => r.LabeledPairId!.Value).Distinct().ToListAsync(cancellationToken));
            }
            return stored;
        }

        public async Task<ItemOutcome> ProcessAsync(long itemId, CancellationToken cancellationToken)
        {
            EvaluationItem? item;
            await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
                item = (await EvaluationSets.LoadAsync(db, evaluation, itemId, itemId, cancellationToken)).Items.SingleOrDefault();
            if (item is null) return new ItemOutcome(itemId, $"Example {itemId} is no longer in the evaluation set.", 0, 0, null);

            var now = time.GetUtcNow().UtcDateTime;
            var calls = new List<Task<(IReadOnlyList<EvaluationResult> Results, CallUsage Usage)>>();
            for (var repeat = 0; repeat < seeds.Count; repeat++)
                foreach (var order in EvaluationPlan.Orders(evaluation.PositionMode, seeds[repeat], item.Key))
                {
                    var (responseA, responseB) = order == Position.A ? (item.Chosen, item.Rejected) : (item.Rejected, item.Chosen);
                    var userPrompt = PromptText.Render(template.UserText, PromptValues.JudgePairwise(item.Prompt, responseA, responseB));
                    List<ChatMessage> messages = template.SystemText is { } system
                        ? [new(ChatRole.System, system), new(ChatRole.User, userPrompt)]
                        : [new(ChatRole.User, userPrompt)];
                    foreach (var (first, count) in EvaluationPlan.Requests(evaluation.Samples, _choicesPerRequest))
                        calls.Add(CallAsync(item, order, repeat, seeds[repeat], first, count, messages, now, cancellationToken));
                }
            try
            {
                var done = await Task.WhenAll(calls);
                var results = done.SelectMany(d => d.Results).OrderBy(r => r.ChosenPosition).ThenBy(r => r.SampleIndex).ToList();
                return new ItemOutcome(itemId, null, done.Sum(d => (long)(d.Usage.PromptTokens ?? 0)), done.Sum(d => (long)(d.Usage.CompletionTokens ?? 0)), results);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var spent = calls.Where(c => c.IsCompletedSuccessfully).Select(c => c.Result.Usage).ToList();
                var error = ex is AggregateException { InnerException: { } inner } ? inner.Message : ex.Message;
                return new ItemOutcome(itemId, $"Judging example {item.Key} failed: {error}",
                    spent.Sum(u => (long)(u.PromptTokens ?? 0)), spent.Sum(u => (long)(u.CompletionTokens ?? 0)), null);
            }
        }

        private async Task<(IReadOnlyList<EvaluationResult> Results, CallUsage Usage)> CallAsync(EvaluationItem item, Position order, int repeat, long seed,
            int first, int count, List<ChatMessage> messages, DateTime now, CancellationToken cancellationToken)
        {
            var requestSeed = EvaluationPlan.RequestSeed(seed, item.Key, order, first);
            var options = new ChatOptions
            {
                Temperature = (float)evaluation.Temperature,
                TopP = (float)evaluation.TopP,
                MaxOutputTokens = evaluation.MaxTokens,
                Seed = requestSeed,
            };
            var clock = Stopwatch.StartNew();
            var response = await model.Client.GetResponseAsync(messages, ChatChoices.WithCount(options, count), cancellationToken);
            var usage = CallUsage.From(response);
            var choices = ChatChoices.Read(response);
            if (choices.Count != count)
                throw new InvalidOperationException($"The judge returned {choices.Count} choices for a request of {count}.");
            var latency = usage.LatencyMs ?? (int)clock.ElapsedMilliseconds;
            var heldOut = evaluation.DatasetId is null;
            return (choices.Select(choice =>
            {
                var parsed = VerdictParser.ParseLenient(choice.Text);
                return new EvaluationResult
                {
                    EvaluationRunId = evaluation.Id,
                    ExampleKey = item.Key,
                    LabeledPairId = heldOut ? null : item.Id,
                    PairId = heldOut ? item.Id : null,
                    Subset = item.Subset,
                    ChosenPosition = order,
                    SampleIndex = repeat * evaluation.Samples + first + choice.Index,
                    ChoiceIndex = choice.Index,
                    RawCompletion = choice.Text,
                    Verdict = parsed.Verdict,
                    Score = EvaluationPlan.SampleScore(evaluation.Benchmark, parsed.Verdict, order),
                    RequestSeed = requestSeed,
                    // Usage covers the whole request: recorded once, on its first choice, so sums stay right.
                    PromptTokens = choice.Index == 0 ? usage.PromptTokens : null,
                    CompletionTokens = choice.Index == 0 ? usage.CompletionTokens : null,
                    LatencyMs = latency,
                    FinishReason = choice.FinishReason,
                    Error = parsed.Error,
                    CreatedAt = now,
                };
            }).ToList(), usage);
        }

        public async Task WriteAsync(SelfTaughtDbContext db, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken)
        {
            var results = outcomes.Select(o => o.Result).OfType<IReadOnlyList<EvaluationResult>>().SelectMany(r => r).ToList();
            // Insert-or-ignore on (run, example, order, sample index): a chunk that reran concurrently stored some already.
            if (results.Count > 0) await db.InsertOrIgnoreAsync(results, cancellationToken);
        }

        public async Task CompletedAsync(SelfTaughtDbContext db, CancellationToken cancellationToken) =>
            await EvaluationSummaries.StoreAsync(db, evaluation.Id, time.GetUtcNow().UtcDateTime, cancellationToken);
    }
}
