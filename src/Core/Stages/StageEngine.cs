using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Stages;

/// <summary>Tuning of the stage engine.</summary>
public sealed class StageEngineOptions
{
    /// <summary>Items per chunk job. Default 256.</summary>
    public int ChunkSize { get; set; } = 256;

    /// <summary>Outcomes written per database transaction at most. Default 100.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Longest wait before a partial batch is written. Default 500 ms.</summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a running chunk reads the pause and cancel flags. Default 500 ms.</summary>
    public TimeSpan FlagPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// Runs stage runs as chunks of idempotent items: plans (which items remain), processes chunks with bounded
/// parallelism, writes outcomes in batches through one writer per chunk, keeps counters in the database (so progress
/// is right across processes), and honours pause, resume, cancel and retry-failed, which are database flags.
/// </summary>
public sealed partial class StageEngine(
    IDbContextFactory<SelfTaughtDbContext> contexts,
    IEnumerable<IStage> stages,
    IStageScheduler scheduler,
    StageEngineOptions options,
    TimeProvider time,
    ILogger<StageEngine> logger)
{
    private static readonly StageStatus[] Unfinished = [StageStatus.Queued, StageStatus.Running, StageStatus.Cancelling];

    /// <summary>
    /// Creates a queued stage run with a snapshot of its settings and enqueues its start. Two unfinished runs of one
    /// kind over the same target (dataset, experiment, iteration, evaluation) would share items and neither could
    /// account for the other's, so a second one is refused.
    /// </summary>
    /// <exception cref="StageException">An unfinished run of this kind over this target exists; the message names it.</exception>
    public async Task<StageRun> CreateAsync(StageKind kind, object settings, long? datasetId = null, long? experimentId = null,
        long? iterationId = null, long? evaluationRunId = null, CancellationToken cancellationToken = default)
    {
        _ = Stage(kind);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        StageStatus[] active = [.. Unfinished, StageStatus.Paused];
        var clash = await db.StageRuns.AsNoTracking()
            .Where(r => r.Kind == kind && r.DatasetId == datasetId && r.ExperimentId == experimentId && r.IterationId == iterationId
                && r.EvaluationRunId == evaluationRunId && active.Contains(r.Status))
            .Select(r => new { r.Id, r.Status }).FirstOrDefaultAsync(cancellationToken);
        if (clash is not null)
            throw new StageException($"Stage run {clash.Id} ({kind}) over the same data is still {clash.Status.ToString().ToLowerInvariant()}; let it finish or cancel it first.");
        var run = new StageRun
        {
            Kind = kind, DatasetId = datasetId, ExperimentId = experimentId, IterationId = iterationId, EvaluationRunId = evaluationRunId,
            SettingsJson = JsonSerializer.Serialize(settings, settings.GetType(), StageJson.Options), Status = StageStatus.Queued, CreatedAt = Now,
        };
        db.StageRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        scheduler.EnqueueStart(run.Id);
        return run;
    }

    /// <summary>
    /// Plans a run: counts items, skips those already stored, and enqueues chunks for the rest. Safe to call again
    /// (after a crash, a resume or a retry): it only ever enqueues items without a stored result or recorded failure.
    /// </summary>
    public async Task StartAsync(long stageRunId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var run = await db.StageRuns.SingleOrDefaultAsync(r => r.Id == stageRunId, cancellationToken);
        if (run is null || run.Status is StageStatus.Completed or StageStatus.Cancelled or StageStatus.Failed or StageStatus.Paused) return;
        if (run.CancelRequested)
        {
            await MarkCancelledAsync(stageRunId, cancellationToken);
            return;
        }

        IStageExecution execution;
        IReadOnlyList<long> items;
        IReadOnlySet<long> stored;
        try
        {
            execution = await Stage(run.Kind).PrepareAsync(db, run, cancellationToken);
            items = await execution.ListItemsAsync(db, cancellationToken);
            stored = await execution.StoredAsync(db, items, cancellationToken);
        }
        catch (StageException ex)
        {
            await FailAsync(stageRunId, ex.Message, cancellationToken);
            return;
        }

        var failed = (await db.StageRunFailures.Where(f => f.StageRunId == stageRunId).Select(f => f.ItemId).ToListAsync(cancellationToken)).ToHashSet();
        if (run.StartedAt is null)
        {
            if (!execution.ReportsOwnProgress)
            {
                run.Total = items.Count;
                run.Skipped = stored.Count;
            }
            run.StartedAt = Now;
        }
        run.Status = StageStatus.Running;
        run.UpdatedAt = Now;
        await db.SaveChangesAsync(cancellationToken);

        var pending = items.Where(i => !stored.Contains(i) && !failed.Contains(i)).ToList();
        LogPlanned(logger, stageRunId, run.Kind, items.Count, pending.Count);
        foreach (var chunk in pending.Chunk(options.ChunkSize))
            scheduler.EnqueueChunk(stageRunId, chunk[0], chunk[^1]);
        if (pending.Count == 0) await TryCompleteAsync(stageRunId, execution, cancellationToken);
    }

    /// <summary>Processes the pending items with ids in [<paramref name="firstItemId"/>, <paramref name="lastItemId"/>].</summary>
    public async Task RunChunkAsync(long stageRunId, long firstItemId, long lastItemId, CancellationToken cancellationToken)
    {
        IStageExecution execution;
        List<long> pending;
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            var run = await db.StageRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == stageRunId, cancellationToken);
            if (run is { Status: StageStatus.Cancelling })
            {
                // Cancelled while this chunk waited in the queue: no chunk may be running to finish the cancellation.
                await MarkCancelledAsync(stageRunId, cancellationToken);
                return;
            }
            if (run is null || run.Status != StageStatus.Running || run.PauseRequested || run.CancelRequested) return;
            try
            {
                execution = await Stage(run.Kind).PrepareAsync(db, run, cancellationToken);
            }
            catch (StageException ex)
            {
                await FailAsync(stageRunId, ex.Message, cancellationToken);
                return;
            }
            // Only this chunk's range is read: listing the whole run in every chunk costs N² / chunk size over a run.
            var inRange = await execution.ListItemsAsync(db, firstItemId, lastItemId, cancellationToken);
            var stored = await execution.StoredAsync(db, inRange, cancellationToken);
            var failed = (await db.StageRunFailures.Where(f => f.StageRunId == stageRunId && f.ItemId >= firstItemId && f.ItemId <= lastItemId)
                .Select(f => f.ItemId).ToListAsync(cancellationToken)).ToHashSet();
            pending = inRange.Where(i => !stored.Contains(i) && !failed.Contains(i)).ToList();
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pausing = false;
        var cancelled = false;
        var outcomes = Channel.CreateBounded<ItemOutcome>(new BoundedChannelOptions(Math.Max(64, execution.Parallelism * 4)) { SingleReader = true });
        var writer = WriteOutcomesAsync(stageRunId, execution, outcomes.Reader, cancellationToken);
        var monitor = Task.Run(async () =>
        {
            // Flags are read from the database, so a pause or cancel from any process reaches every chunk.
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(options.FlagPollInterval, time, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                var flags = await ReadFlagsAsync(stageRunId, cancellationToken);
                if (flags.Cancel)
                {
                    cancelled = true;
                    await stop.CancelAsync();
                    return;
                }
                pausing |= flags.Pause;
            }
        }, CancellationToken.None);

        // A failed write stops the workers instead of leaving them blocked on a full channel.
        _ = writer.ContinueWith(_ => stop.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        Exception? failure = null;
        try
        {
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, execution.Parallelism), CancellationToken = stop.Token },
                async (itemId, token) =>
                {
                    if (pausing) return;
                    var outcome = await execution.ProcessAsync(itemId, token);
                    await outcomes.Writer.WriteAsync(outcome, token);
                });
        }
        catch (OperationCanceledException) when (cancelled && !cancellationToken.IsCancellationRequested)
        {
            // Cancelled by the user: in-flight requests were cancelled, finished items are written below.
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            failure = ex;
        }
        finally
        {
            outcomes.Writer.TryComplete();
            try
            {
                await writer;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                failure = ex;
            }
            await stop.CancelAsync();
            await monitor;
        }

        // Hangfire does not retry chunks: an unexpected error fails the run with its message instead of leaving it Running.
        if (failure is not null) await FailAsync(stageRunId, $"{failure.GetType().Name}: {failure.GetBaseException().Message}", cancellationToken);
        else if (cancelled) await MarkCancelledAsync(stageRunId, cancellationToken);
        else await TryCompleteAsync(stageRunId, execution, cancellationToken);
    }

    /// <summary>Stops taking new items; items in flight finish and are kept. Imports cannot be paused.</summary>
    public async Task<bool> PauseAsync(long stageRunId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // An import is one item that checks only for cancellation: it can be cancelled (and resumed by importing again), not paused.
        return await db.StageRuns.Where(r => r.Id == stageRunId && (r.Status == StageStatus.Queued || r.Status == StageStatus.Running) && r.Kind != StageKind.Import)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.PauseRequested, true).SetProperty(r => r.Status, StageStatus.Paused)
                .SetProperty(r => r.UpdatedAt, Now), cancellationToken) > 0;
    }

    /// <summary>Continues a paused run with the items that have no result yet.</summary>
    public async Task<bool> ResumeAsync(long stageRunId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var resumed = await db.StageRuns.Where(r => r.Id == stageRunId && r.Status == StageStatus.Paused)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.PauseRequested, false).SetProperty(r => r.Status, StageStatus.Queued)
                .SetProperty(r => r.UpdatedAt, Now), cancellationToken) > 0;
        if (resumed) scheduler.EnqueueStart(stageRunId);
        return resumed;
    }

    /// <summary>Cancels in-flight requests and stops the run; finished items are kept.</summary>
    public async Task<bool> CancelAsync(long stageRunId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // Nothing runs for a queued or paused run: it is cancelled at once. A running one is cancelled by its chunks.
        var idle = await db.StageRuns.Where(r => r.Id == stageRunId && (r.Status == StageStatus.Queued || r.Status == StageStatus.Paused))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequested, true).SetProperty(r => r.Status, StageStatus.Cancelled)
                .SetProperty(r => r.FinishedAt, Now).SetProperty(r => r.UpdatedAt, Now), cancellationToken);
        if (idle > 0) return true;
        return await db.StageRuns.Where(r => r.Id == stageRunId && r.Status == StageStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequested, true).SetProperty(r => r.Status, StageStatus.Cancelling)
                .SetProperty(r => r.UpdatedAt, Now), cancellationToken) > 0;
    }

    /// <summary>Runs the failed items again (and only those, plus any never processed); finished items are kept.</summary>
    /// <returns>How many failed items were queued again; null if the run is queued, running or cancelling (or does not exist).</returns>
    public async Task<int?> RetryFailedAsync(long stageRunId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var run = await db.StageRuns.SingleOrDefaultAsync(r => r.Id == stageRunId, cancellationToken);
        if (run is null || run.Status is StageStatus.Running or StageStatus.Cancelling or StageStatus.Queued) return null;
        var failures = await db.StageRunFailures.Where(f => f.StageRunId == stageRunId).ExecuteDeleteAsync(cancellationToken);
        run.Failed = 0;
        run.Status = StageStatus.Queued;
        run.PauseRequested = false;
        run.CancelRequested = false;
        run.FinishedAt = null;
        run.UpdatedAt = Now;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        scheduler.EnqueueStart(stageRunId);
        return failures;
    }

    /// <summary>
    /// Re-enqueues every unfinished run. For a job queue that lives in memory only: call once at start-up, or every
    /// worker sharing a persistent queue would enqueue the same chunks.
    /// </summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var runs = await db.StageRuns.Where(r => Unfinished.Contains(r.Status)).Select(r => new { r.Id, r.Status }).ToListAsync(cancellationToken);
        foreach (var run in runs)
        {
            if (run.Status == StageStatus.Cancelling) await MarkCancelledAsync(run.Id, cancellationToken);
            else scheduler.EnqueueStart(run.Id);
        }
        if (runs.Count > 0) LogRecovered(logger, runs.Count);
        return runs.Count;
    }

    private async Task WriteOutcomesAsync(long stageRunId, IStageExecution execution, ChannelReader<ItemOutcome> reader, CancellationToken cancellationToken)
    {
        var batch = new List<ItemOutcome>(options.BatchSize);
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            using var window = new CancellationTokenSource(options.BatchDelay, time);
            while (batch.Count < options.BatchSize)
            {
                if (reader.TryRead(out var outcome))
                {
                    batch.Add(outcome);
                    continue;
                }
                try
                {
                    if (!await reader.WaitToReadAsync(window.Token)) break;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            if (batch.Count > 0) await WriteBatchAsync(stageRunId, execution, batch, cancellationToken);
            batch.Clear();
        }
    }

    private async Task WriteBatchAsync(long stageRunId, IStageExecution execution, IReadOnlyList<ItemOutcome> batch, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var before = await execution.StoredAsync(db, [.. batch.Where(o => o.Succeeded).Select(o => o.ItemId)], cancellationToken);
        var fresh = batch.Where(o => o.Succeeded && !before.Contains(o.ItemId)).ToList();
        await execution.WriteAsync(db, fresh, cancellationToken);
        var failures = batch.Where(o => !o.Succeeded).Select(o => new StageRunFailure
        {
            StageRunId = stageRunId, ItemId = o.ItemId, Message = Truncate(o.Error!, 2000), Attempts = 1, OccurredAt = Now,
        }).ToList();
        var newFailures = await db.InsertOrIgnoreAsync(failures, cancellationToken);
        var promptTokens = batch.Sum(o => o.PromptTokens);
        var completionTokens = batch.Sum(o => o.CompletionTokens);
        var lastError = failures.LastOrDefault()?.Message;
        var done = execution.ReportsOwnProgress ? 0 : fresh.Count;
        // Processed here but stored meanwhile by another run over the same items: counted, or the run never completes.
        var skipped = execution.ReportsOwnProgress ? 0 : batch.Count(o => o.Succeeded && before.Contains(o.ItemId));
        newFailures = execution.ReportsOwnProgress ? 0 : newFailures;
        await db.StageRuns.Where(r => r.Id == stageRunId).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Done, r => r.Done + done)
            .SetProperty(r => r.Skipped, r => r.Skipped + skipped)
            .SetProperty(r => r.Failed, r => r.Failed + newFailures)
            .SetProperty(r => r.PromptTokens, r => r.PromptTokens + promptTokens)
            .SetProperty(r => r.CompletionTokens, r => r.CompletionTokens + completionTokens)
            .SetProperty(r => r.LastError, r => lastError ?? r.LastError)
            .SetProperty(r => r.UpdatedAt, Now), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task<(bool Pause, bool Cancel)> ReadFlagsAsync(long stageRunId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var flags = await db.StageRuns.AsNoTracking().Where(r => r.Id == stageRunId)
            .Select(r => new { r.PauseRequested, r.CancelRequested }).SingleOrDefaultAsync(cancellationToken);
        return flags is null ? (false, true) : (flags.PauseRequested, flags.CancelRequested);
    }

    private async Task TryCompleteAsync(long stageRunId, IStageExecution execution, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (execution.ReportsOwnProgress)
        {
            // Counters are in the stage's own units: finished when every item is stored, failed when one could not be.
            var items = await execution.ListItemsAsync(db, cancellationToken);
            var stored = await execution.StoredAsync(db, items, cancellationToken);
            var failures = await db.StageRunFailures.Where(f => f.StageRunId == stageRunId).Select(f => f.Message).ToListAsync(cancellationToken);
            if (stored.Count == items.Count)
            {
                if (await db.StageRuns.AnyAsync(r => r.Id == stageRunId && r.Status == StageStatus.Running, cancellationToken)
                    && await CompletedAsync(db, stageRunId, execution, cancellationToken))
                    await db.StageRuns.Where(r => r.Id == stageRunId && r.Status == StageStatus.Running)
                        .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, StageStatus.Completed).SetProperty(r => r.FinishedAt, Now).SetProperty(r => r.UpdatedAt, Now), cancellationToken);
            }
            else if (stored.Count + failures.Count >= items.Count)
                await FailAsync(stageRunId, failures.LastOrDefault() ?? "The stage did not store its results.", cancellationToken);
            return;
        }
        var finished = db.StageRuns.Where(r => r.Id == stageRunId && r.Status == StageStatus.Running && r.Done + r.Failed + r.Skipped >= r.Total);
        // The stage's own completion work (e.g. statistics) comes first, so a run shown Completed has it. Two chunks
        // finishing together may both do it: it must be idempotent.
        if (!await finished.AnyAsync(cancellationToken) || !await CompletedAsync(db, stageRunId, execution, cancellationToken)) return;
        var completed = await finished.ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, StageStatus.Completed).SetProperty(r => r.FinishedAt, Now)
            .SetProperty(r => r.UpdatedAt, Now), cancellationToken);
        if (completed > 0) LogCompleted(logger, stageRunId);
    }

    /// <summary>Runs the stage's completion work; false (and the run failed with the reason) if it threw.</summary>
    private async Task<bool> CompletedAsync(SelfTaughtDbContext db, long stageRunId, IStageExecution execution, CancellationToken cancellationToken)
    {
        try
        {
            await execution.CompletedAsync(db, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await FailAsync(stageRunId, $"The results are stored, but finishing the run failed: {ex.Message}", cancellationToken);
            return false;
        }
    }

    private async Task MarkCancelledAsync(long stageRunId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.StageRuns.Where(r => r.Id == stageRunId && r.Status != StageStatus.Completed && r.Status != StageStatus.Failed)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, StageStatus.Cancelled).SetProperty(r => r.FinishedAt, r => r.FinishedAt ?? Now)
                .SetProperty(r => r.UpdatedAt, Now), cancellationToken);
    }

    private async Task FailAsync(long stageRunId, string message, CancellationToken cancellationToken)
    {
        LogFailed(logger, stageRunId, message);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.StageRuns.Where(r => r.Id == stageRunId).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Status, StageStatus.Failed).SetProperty(r => r.LastError, Truncate(message, 2000))
            .SetProperty(r => r.FinishedAt, Now).SetProperty(r => r.UpdatedAt, Now), cancellationToken);
    }

    private IStage Stage(StageKind kind) =>
        stages.FirstOrDefault(s => s.Kind == kind) ?? throw new InvalidOperationException($"No stage handles {kind} runs.");

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "Stage run {StageRunId} ({Kind}): {Total} item(s), {Pending} to process")]
    private static partial void LogPlanned(ILogger logger, long stageRunId, StageKind kind, int total, int pending);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stage run {StageRunId} completed")]
    private static partial void LogCompleted(ILogger logger, long stageRunId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage run {StageRunId} failed: {Problem}")]
    private static partial void LogFailed(ILogger logger, long stageRunId, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-enqueued {Count} unfinished stage run(s) after start-up")]
    private static partial void LogRecovered(ILogger logger, int count);
}

/// <summary>JSON settings of stage runs: camelCase, enums as names.</summary>
public static class StageJson
{
    /// <summary>Serializer options for settings snapshots.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}
