using System.Collections.Concurrent;
using SelfTaught.Core.Stages;

namespace SelfTaught.Web.Tests.Infrastructure;

/// <summary>A stage scheduler that only records what the engine asked for; nothing runs.</summary>
public sealed class RecordingStageScheduler : IStageScheduler
{
    private readonly ConcurrentQueue<long> _starts = new();
    private readonly ConcurrentQueue<(long StageRunId, long FirstItemId, long LastItemId)> _chunks = new();

    /// <summary>Stage runs whose start was enqueued, in order.</summary>
    public IReadOnlyList<long> Starts => [.. _starts];

    /// <summary>Chunks enqueued, in order.</summary>
    public IReadOnlyList<(long StageRunId, long FirstItemId, long LastItemId)> Chunks => [.. _chunks];

    public void EnqueueStart(long stageRunId) => _starts.Enqueue(stageRunId);

    public void EnqueueChunk(long stageRunId, long firstItemId, long lastItemId) => _chunks.Enqueue((stageRunId, firstItemId, lastItemId));
}
