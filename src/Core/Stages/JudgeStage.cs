using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Judging;
using SelfTaught.Core.Models;
using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Stages;

/// <summary>
/// Settings of a judge run, snapshotted when it starts: the iteration's judge and its sampling settings.
/// </summary>
/// <param name="Model">The iteration's judge model (iteration 1: the experiment's judge; later: the chosen model of the previous iteration).</param>
/// <param name="Endpoint">Endpoint that must serve it; null spreads over every endpoint serving the model.</param>
/// <param name="Judging">N, sampling, early stop and batching.</param>
public sealed record JudgeRunSettings(string Model, string? Endpoint, JudgingSettings Judging);

/// <summary>
/// Judgment annotation with rejection sampling (DESIGN §1 step 3) over an experiment's ready, non-held-out pairs: y_w
/// is placed as A or B by a seeded coin, N judgments are sampled from the iteration's judge with the Fig. 8 prompt
/// (each request with its own derived seed; several samples per request where the endpoint accepts <c>n</c>), parsed
/// strictly, and one correct judgment is kept (uniformly at random, seeded) or the pair is dropped. Every sample is
/// stored. Under early stop, samples are drawn in index order and the lowest-index correct one is kept, except on a
/// seeded full-N subsample that gives unbiased agreement statistics.
/// </summary>
public sealed class JudgeStage(IModelResolver models, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time) : IStage
{
    /// <inheritdoc />
    public StageKind Kind => StageKind.Judge;

    /// <inheritdoc />
    public async Task<IStageExecution> PrepareAsync(SelfTaughtDbContext db, StageRun run, CancellationToken cancellationToken)
    {
        var settings = JsonSerializer.Deserialize<JudgeRunSettings>(run.SettingsJson, StageJson.Options)
            ?? throw new StageException("The run has no settings.");
        if (settings.Judging.Samples < 1) throw new StageException("The run's judging settings ask for no samples.");
        var iteration = await db.Iterations.AsNoTracking().SingleOrDefaultAsync(i => i.Id == run.IterationId, cancellationToken)
            ?? throw new StageException($"Iteration {run.IterationId} does not exist.");
        ResolvedModel model;
        try
        {
            model = models.Resolve(new ModelReference(settings.Model, settings.Endpoint));
        }
        catch (ModelResolutionException ex)
        {
            throw new StageException(ex.Message, ex);
        }
        PromptTemplate template;
        try
        {
            template = await PromptTemplateStore.ChosenOrBuiltInAsync(db, iteration.JudgeTemplateId, PromptLibrary.JudgePairwise, time.GetUtcNow().UtcDateTime, cancellationToken);
        }
        catch (PromptTemplateException ex)
        {
            throw new StageException($"The iteration's judge template: {ex.Message}", ex);
        }
        var keys = await PairKeys.Parts(EligiblePairs(db, iteration.ExperimentId)).ToListAsync(cancellationToken);
        var fullN = settings.Judging.EarlyStop
            ? JudgePlan.FullNSubsample(keys.Select(k => k.Key).ToList(), iteration.Seed, settings.Judging.FullNShare, settings.Judging.FullNMinimum)
            : null;
        return new Execution(run.Id, iteration, settings, model, template, fullN, contexts, time);
    }

    /// <summary>The pairs a judge run of an experiment annotates: ready and not held out, in id order.</summary>
    public static IQueryable<Pair> EligiblePairs(SelfTaughtDbContext db, long experimentId)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId && p.Status == PairStatus.Ready && !p.HeldOut && p.Chosen != null && p.Rejected != null)
            .OrderBy(p => p.Id);
    }

    /// <summary>How many model samples the judge draws at once for one pair (its requests run in parallel).</summary>
    private static int ChoicesPerRequest(JudgingSettings judging, ModelCapabilities capabilities) =>
        judging.BatchSamples && capabilities.AcceptsN ? Math.Max(1, judging.MaxChoicesPerRequest) : 1;

    /// <summary>An annotated pair, ready to store.</summary>
    private sealed record Annotated(Annotation Annotation, List<JudgmentSample> Samples);

    private sealed class Execution(long runId, Iteration iteration, JudgeRunSettings settings, ResolvedModel model, PromptTemplate template,
        IReadOnlySet<long>? fullN, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time) : IStageExecution
    {
        private readonly JudgingSettings _judging = settings.Judging;
        private readonly int _choicesPerRequest = ChoicesPerRequest(settings.Judging, model.Capabilities);

        // Each pair keeps up to ⌈N / choices⌉ requests in flight; twice the endpoint's capacity in requests keeps its
        // limiter's queue full without holding many pairs in memory.
        public int Parallelism
        {
            get
            {
                var perPair = _judging.EarlyStop ? Math.Max(1, _judging.EarlyStopBatch / _choicesPerRequest) : (_judging.Samples + _choicesPerRequest - 1) / _choicesPerRequest;
                return Math.Max(1, model.Capabilities.MaxConcurrentRequests * 2 / Math.Max(1, perPair));
            }
        }

        public async Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, CancellationToken cancellationToken) =>
            await EligiblePairs(db, iteration.ExperimentId).Select(p => p.Id).ToListAsync(cancellationToken);

        public async Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, long firstItemId, long lastItemId, CancellationToken cancellationToken) =>
            await EligiblePairs(db, iteration.ExperimentId).Where(p => p.Id >= firstItemId && p.Id <= lastItemId).Select(p => p.Id).ToListAsync(cancellationToken);

        public async Task<IReadOnlySet<long>> StoredAsync(SelfTaughtDbContext db, IReadOnlyCollection<long> items, CancellationToken cancellationToken)
        {
            var stored = new HashSet<long>();
            foreach (var chunk in items.Chunk(5_000))
                stored.UnionWith(await db.Annotations.AsNoTracking().Where(a => a.IterationId == iteration.Id && chunk.Contains(a.PairId))
                    .Select(a => a.PairId).ToListAsync(cancellationToken));
            return stored;
        }

        public async Task<ItemOutcome> ProcessAsync(long itemId, CancellationToken cancellationToken)
        {
            Pair? pair;
            long key;
            await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
            {
                pair = await db.Pairs.AsNoTracking().SingleOrDefaultAsync(p => p.Id == itemId, cancellationToken);
                if (pair is null) return new ItemOutcome(itemId, $"Pair {itemId} no longer exists.", 0, 0, null);
                // Seeded choices are keyed by the pair's method and source row, not its id, so they repeat in any database.
                key = (await PairKeys.Parts(db.Pairs.Where(p => p.Id == itemId)).SingleAsync(cancellationToken)).Key;
            }
            if (pair.Chosen is null || pair.Rejected is null) return new ItemOutcome(itemId, $"Pair {itemId} has no responses to judge.", 0, 0, null);

            var chosenPosition = JudgePlan.Placement(iteration.Seed, key);
            var (responseA, responseB) = chosenPosition == Position.A ? (pair.Chosen, pair.Rejected) : (pair.Rejected, pair.Chosen);
            var userPrompt = PromptText.Render(template.UserText, PromptValues.JudgePairwise(pair.Prompt, responseA, responseB));
            List<ChatMessage> messages = template.SystemText is { } system
                ? [new(ChatRole.System, system), new(ChatRole.User, userPrompt)]
                : [new(ChatRole.User, userPrompt)];
            var isFullN = !_judging.EarlyStop || fullN!.Contains(key);
            var now = time.GetUtcNow().UtcDateTime;

            var samples = new List<JudgmentSample>();
            long promptTokens = 0, completionTokens = 0;
            try
            {
                if (isFullN)
                {
                    await DrawAsync(0, _judging.Samples);
                }
                else
                {
                    // Early stop: in sample-index order, a batch at a time, until a batch holds a correct sample.
                    var next = 0;
                    while (next < _judging.Samples && !samples.Any(s => s.Correct == true))
                    {
                        var count = Math.Min(_judging.EarlyStopBatch, _judging.Samples - next);
                        await DrawAsync(next, count);
                        next += count;
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new ItemOutcome(itemId, $"Judging pair {pair.Id} failed: {ex.Message}", promptTokens, completionTokens, null);
            }

            samples.Sort((a, b) => a.SampleIndex.CompareTo(b.SampleIndex));
            var kept = JudgePlan.ChooseKept(samples.Select(s => new SampleOutcome(s.SampleIndex, s.Correct == true)).ToList(), iteration.Seed, key, _judging.EarlyStop);
            var annotation = new Annotation
            {
                IterationId = iteration.Id,
                PairId = pair.Id,
                ChosenPosition = chosenPosition,
                Gold = chosenPosition,
                JudgePrompt = userPrompt,
                TemplateId = template.Id,
                Status = kept is null ? AnnotationStatus.Dropped : AnnotationStatus.Kept,
                KeptSampleIndex = kept,
                FullN = isFullN,
                SamplesDrawn = samples.Count,
                CorrectCount = samples.Count(s => s.Correct == true),
                InvalidCount = samples.Count(s => s.Verdict == Verdict.Invalid),
                CreatedAt = now,
            };
            return new ItemOutcome(itemId, null, promptTokens, completionTokens, new Annotated(annotation, samples));

            async Task DrawAsync(int from, int count)
            {
                var requests = JudgePlan.Requests(iteration.Seed, key, from, count, _choicesPerRequest);
                var results = await Task.WhenAll(requests.Select(r => CallAsync(pair.Id, r, messages, chosenPosition, now, cancellationToken)));
                foreach (var (drawn, usage) in results)
                {
                    samples.AddRange(drawn);
                    promptTokens += usage.PromptTokens ?? 0;
                    completionTokens += usage.CompletionTokens ?? 0;
                }
            }
        }

        private async Task<(IReadOnlyList<JudgmentSample> Samples, CallUsage Usage)> CallAsync(long pairId, JudgeRequest request,
            List<ChatMessage> messages, Position gold, DateTime now, CancellationToken cancellationToken)
        {
            var options = new ChatOptions
            {
                Temperature = (float)_judging.Temperature,
                TopP = (float)_judging.TopP,
                MaxOutputTokens = _judging.MaxTokens,
                Seed = request.Seed,
            };
            var clock = Stopwatch.StartNew();
            var response = await model.Client.GetResponseAsync(messages, ChatChoices.WithCount(options, request.Count), cancellationToken);
            var usage = CallUsage.From(response);
            var choices = ChatChoices.Read(response);
            if (choices.Count != request.Count)
                throw new InvalidOperationException($"The judge returned {choices.Count} choices for a request of {request.Count}.");
            var latency = usage.LatencyMs ?? (int)clock.ElapsedMilliseconds;
            return (choices.Select(choice =>
            {
                var parsed = VerdictParser.ParseStrict(choice.Text);
                return new JudgmentSample
                {
                    IterationId = iteration.Id,
                    PairId = pairId,
                    SampleIndex = request.FirstIndex + choice.Index,
                    TemplateId = template.Id,
                    RawCompletion = choice.Text,
                    Verdict = parsed.Verdict,
                    Correct = parsed.Ok && parsed.Verdict == (gold == Position.A ? Verdict.A : Verdict.B),
                    Model = usage.Model ?? settings.Model,
                    Endpoint = usage.Endpoint ?? settings.Endpoint,
                    Temperature = _judging.Temperature,
                    TopP = _judging.TopP,
                    MaxTokens = _judging.MaxTokens,
                    RequestSeed = request.Seed,
                    ChoiceIndex = choice.Index,
                    // Usage covers the whole request: it is recorded once, on its first choice, so sums stay right.
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
            var annotated = outcomes.Select(o => o.Result).OfType<Annotated>().ToList();
            if (annotated.Count == 0) return;
            // The engine calls this inside its transaction, with the batch's counters.
            // Insert-or-ignore on (iteration, pair): a chunk that reran concurrently stored some already; theirs stay.
            await db.InsertOrIgnoreAsync(annotated.Select(a => a.Annotation).ToList(), cancellationToken);
            var pairIds = annotated.Select(a => a.Annotation.PairId).ToList();
            var ids = await db.Annotations.AsNoTracking().Where(a => a.IterationId == iteration.Id && pairIds.Contains(a.PairId))
                .ToDictionaryAsync(a => a.PairId, a => a.Id, cancellationToken);
            var samples = new List<JudgmentSample>();
            foreach (var a in annotated)
            {
                foreach (var sample in a.Samples) sample.AnnotationId = ids[a.Annotation.PairId];
                samples.AddRange(a.Samples);
            }
            await db.InsertOrIgnoreAsync(samples, cancellationToken);
        }

        public async Task CompletedAsync(SelfTaughtDbContext db, CancellationToken cancellationToken) =>
            await IterationStatistics.StoreJudgingAsync(db, iteration.Id, runId, cancellationToken);
    }
}
