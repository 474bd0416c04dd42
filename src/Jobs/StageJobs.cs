using Hangfire;
using SelfTaught.Core.Stages;

namespace SelfTaught.Jobs;

/// <summary>
/// The Hangfire jobs of stage runs: thin, arguments are IDs, the work is Core's <see cref="StageEngine"/>.
/// Hangfire's automatic retry is off: items retry inside, and a failed item is recorded rather than re-run ten times.
/// Both jobs tolerate running twice.
/// </summary>
public sealed class StageJobs(StageEngine engine)
{
    /// <summary>Plans a stage run and enqueues its chunks.</summary>
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Plan stage run {0}")]
    public Task StartAsync(long stageRunId, CancellationToken cancellationToken) => engine.StartAsync(stageRunId, cancellationToken);

    /// <summary>Processes one chunk of a stage run.</summary>
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("Stage run {0}: items {1}–{2}")]
    public Task RunChunkAsync(long stageRunId, long firstItemId, long lastItemId, CancellationToken cancellationToken) =>
        engine.RunChunkAsync(stageRunId, firstItemId, lastItemId, cancellationToken);
}

/// <summary>Enqueues stage jobs through Hangfire's client, with IDs only.</summary>
public sealed class HangfireStageScheduler(IBackgroundJobClient jobs) : IStageScheduler
{
    /// <inheritdoc />
    public void EnqueueStart(long stageRunId) => jobs.Enqueue<StageJobs>(j => j.StartAsync(stageRunId, CancellationToken.None));

    /// <inheritdoc />
    public void EnqueueChunk(long stageRunId, long firstItemId, long lastItemId) =>
        jobs.Enqueue<StageJobs>(j => j.RunChunkAsync(stageRunId, firstItemId, lastItemId, CancellationToken.None));
}
