using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;

namespace SelfTaught.Core.Stages;

/// <summary>
/// Imports a dataset as a stage run. The request was stored with the dataset (which stays hidden as Importing); the
/// run's counters are rows: Total (estimated while reading), Done = stored, Failed = rejected, Skipped = duplicates.
/// A failed import removes the dataset, so the visible database is as it was; a resumed one continues where it stopped.
/// </summary>
public sealed class ImportStage(DatasetImporter importer, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time) : IStage
{
    /// <summary>Least time between two progress writes to the stage run.</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    /// <inheritdoc />
    public StageKind Kind => StageKind.Import;

    /// <inheritdoc />
    public async Task<IStageExecution> PrepareAsync(SelfTaughtDbContext db, StageRun run, CancellationToken cancellationToken)
    {
        if (run.DatasetId is not { } datasetId)
            throw new StageException("The import run names no dataset.");
        if (!await db.Datasets.AnyAsync(d => d.Id == datasetId, cancellationToken))
            throw new StageException($"Dataset {datasetId} no longer exists (a failed import removes it).");
        return new Execution(run.Id, datasetId, importer, contexts, time);
    }

    private sealed class Execution(long runId, long datasetId, DatasetImporter importer, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time)
        : IStageExecution
    {
        public int Parallelism => 1;

        public bool ReportsOwnProgress => true;

        public Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<long>>([datasetId]);

        public Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, long firstItemId, long lastItemId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<long>>(datasetId >= firstItemId && datasetId <= lastItemId ? [datasetId] : []);

        public async Task<IReadOnlySet<long>> StoredAsync(SelfTaughtDbContext db, IReadOnlyCollection<long> items, CancellationToken cancellationToken) =>
            await db.Datasets.AnyAsync(d => d.Id == datasetId && d.Status == DatasetStatus.Ready, cancellationToken) && items.Contains(datasetId)
                ? new HashSet<long> { datasetId }
                : new HashSet<long>();

        public async Task<ItemOutcome> ProcessAsync(long itemId, CancellationToken cancellationToken)
        {
            var progress = new ThrottledProgress(runId, contexts, time);
            try
            {
                var result = await importer.ImportAsync(datasetId, progress, cancellationToken);
                await progress.WriteFinalAsync(result, cancellationToken);
                return new ItemOutcome(itemId, null, 0, 0, result);
            }
            catch (ImportException ex)
            {
                return new ItemOutcome(itemId, ex.Message, 0, 0, null);
            }
            catch (OperationCanceledException)
            {
                // Cancelled from the Jobs page or the API (not a shutdown, which resumes later): leave no hidden dataset behind.
                if (await CancelledByUserAsync()) await importer.DiscardAsync(datasetId, CancellationToken.None);
                throw;
            }
        }

        private async Task<bool> CancelledByUserAsync()
        {
            await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
            return await db.StageRuns.AnyAsync(r => r.Id == runId && r.CancelRequested, CancellationToken.None);
        }

        // The importer stores the rows and marks the dataset Ready itself.
        public Task WriteAsync(SelfTaughtDbContext db, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Writes import progress to the stage run at most every <see cref="ProgressInterval"/>.</summary>
    private sealed class ThrottledProgress(long runId, IDbContextFactory<SelfTaughtDbContext> contexts, TimeProvider time) : IProgress<ImportProgress>
    {
        private readonly Lock _gate = new();
        private DateTimeOffset _last = DateTimeOffset.MinValue;
        private Task _pending = Task.CompletedTask;

        public void Report(ImportProgress value)
        {
            lock (_gate)
            {
                var now = time.GetUtcNow();
                if (now - _last < ProgressInterval || !_pending.IsCompleted) return;
                _last = now;
                var estimate = value.Phase == ImportPhase.Importing && value.Fraction is > 0.001 ? (int)Math.Round(value.RowsRead / value.Fraction.Value) : (int)value.RowsRead;
                _pending = WriteAsync(Math.Max(estimate, (int)value.RowsRead), value.RowsStored, value.Rejected, value.Duplicates, CancellationToken.None);
            }
        }

        public async Task WriteFinalAsync(ImportResult result, CancellationToken cancellationToken)
        {
            await _pending;
            await WriteAsync(result.RowCount + result.RejectedCount + result.DuplicateCount, result.RowCount, result.RejectedCount, result.DuplicateCount, cancellationToken);
        }

        private async Task WriteAsync(int total, int stored, int rejected, int duplicates, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var now = time.GetUtcNow().UtcDateTime;
            await db.StageRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Total, total).SetProperty(r => r.Done, stored).SetProperty(r => r.Failed, rejected)
                .SetProperty(r => r.Skipped, duplicates).SetProperty(r => r.UpdatedAt, now), cancellationToken);
        }
    }
}
