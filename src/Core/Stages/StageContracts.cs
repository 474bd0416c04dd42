using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Stages;

/// <summary>One kind of stage (import, instruction analysis, ...): prepares an execution for a stage run.</summary>
public interface IStage
{
    /// <summary>The kind of stage run this stage executes.</summary>
    StageKind Kind { get; }

    /// <summary>Loads settings and resolves models for <paramref name="run"/>.</summary>
    /// <exception cref="StageException">The run cannot start (missing dataset, unknown model, bad settings).</exception>
    Task<IStageExecution> PrepareAsync(SelfTaughtDbContext db, StageRun run, CancellationToken cancellationToken);
}

/// <summary>
/// The work of one stage run over items identified by ids. The engine decides which items to process, runs them in
/// parallel, and hands the outcomes back in batches; an item whose result is stored is never processed again.
/// </summary>
public interface IStageExecution
{
    /// <summary>Items processed at once by one chunk; the endpoint's limiter bounds what reaches the server.</summary>
    int Parallelism { get; }

    /// <summary>
    /// True when the stage keeps the run's counters itself in finer units than items (an import counts rows, not
    /// files); the engine then leaves Total/Done/Failed/Skipped alone and completes the run when every item is stored.
    /// </summary>
    bool ReportsOwnProgress => false;

    /// <summary>Every item of the run, in ascending id order.</summary>
    Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, CancellationToken cancellationToken);

    /// <summary>
    /// The items of the run with ids in [<paramref name="firstItemId"/>, <paramref name="lastItemId"/>], in ascending id
    /// order. A chunk calls this for its own range, so it must read only that range (a keyset seek), never every item:
    /// a run of N items has N / chunk size chunks.
    /// </summary>
    Task<IReadOnlyList<long>> ListItemsAsync(SelfTaughtDbContext db, long firstItemId, long lastItemId, CancellationToken cancellationToken);

    /// <summary>Of <paramref name="items"/>, those whose result is already stored.</summary>
    Task<IReadOnlySet<long>> StoredAsync(SelfTaughtDbContext db, IReadOnlyCollection<long> items, CancellationToken cancellationToken);

    /// <summary>Processes one item. Item-level failures are returned, not thrown; cancellation is thrown.</summary>
    Task<ItemOutcome> ProcessAsync(long itemId, CancellationToken cancellationToken);

    /// <summary>Stores successful outcomes in one transaction; outcomes of items already stored must be skipped.</summary>
    Task WriteAsync(SelfTaughtDbContext db, IReadOnlyList<ItemOutcome> outcomes, CancellationToken cancellationToken);

    /// <summary>
    /// Called when every item is stored, skipped or failed, before the run is marked Completed, e.g. to store
    /// statistics over the results. It may run more than once (chunks finishing together), so it must be idempotent.
    /// An exception here fails the run with its message; results stay stored.
    /// </summary>
    Task CompletedAsync(SelfTaughtDbContext db, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Result of processing one item.</summary>
/// <param name="ItemId">The item.</param>
/// <param name="Error">Why the item failed after its retries; null on success.</param>
/// <param name="PromptTokens">Prompt tokens spent, including failed attempts that reported usage.</param>
/// <param name="CompletionTokens">Completion tokens spent.</param>
/// <param name="Result">Stage-specific payload that <see cref="IStageExecution.WriteAsync"/> stores.</param>
public sealed record ItemOutcome(long ItemId, string? Error, long PromptTokens, long CompletionTokens, object? Result)
{
    /// <summary>The item has a result to store.</summary>
    public bool Succeeded => Error is null;
}

/// <summary>A stage run that cannot proceed; the message says why and is shown on the Jobs page.</summary>
public sealed class StageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Enqueues chunk work; implemented over Hangfire by the Jobs project.</summary>
public interface IStageScheduler
{
    /// <summary>Enqueues the planning job of a stage run.</summary>
    void EnqueueStart(long stageRunId);

    /// <summary>Enqueues one chunk: the items with ids in [<paramref name="firstItemId"/>, <paramref name="lastItemId"/>].</summary>
    void EnqueueChunk(long stageRunId, long firstItemId, long lastItemId);
}
