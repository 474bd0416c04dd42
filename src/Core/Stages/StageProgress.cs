using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Stages;

/// <summary>Throughput and ETA of a stage run, derived from its database counters.</summary>
/// <param name="Processed">Items done or failed by this run (skipped ones excluded).</param>
/// <param name="Remaining">Items still to process.</param>
/// <param name="ElapsedSeconds">Seconds since the run started (until it finished, if it did).</param>
/// <param name="ItemsPerSecond">Processed items per second; null before any.</param>
/// <param name="TokensPerSecond">Prompt plus completion tokens per second; null before any.</param>
/// <param name="EtaSeconds">Remaining ÷ items per second while running; null otherwise.</param>
/// <param name="Percent">Share of the total that is done, failed or skipped (0–100).</param>
public sealed record StageProgress(int Processed, int Remaining, double ElapsedSeconds, double? ItemsPerSecond, double? TokensPerSecond, double? EtaSeconds, double Percent)
{
    /// <summary>Computes the progress of <paramref name="run"/> at <paramref name="now"/> (UTC).</summary>
    public static StageProgress From(StageRun run, DateTime now)
    {
        var processed = run.Done + run.Failed;
        var remaining = Math.Max(0, run.Total - processed - run.Skipped);
        var elapsed = run.StartedAt is { } started ? Math.Max(0, ((run.FinishedAt ?? now) - started).TotalSeconds) : 0;
        double? itemsPerSecond = processed > 0 && elapsed > 0 ? processed / elapsed : null;
        double? tokensPerSecond = run.PromptTokens + run.CompletionTokens > 0 && elapsed > 0 ? (run.PromptTokens + run.CompletionTokens) / elapsed : null;
        double? eta = run.Status == StageStatus.Running && itemsPerSecond is > 0 ? remaining / itemsPerSecond : null;
        var percent = run.Total > 0 ? Math.Min(100, 100.0 * (processed + run.Skipped) / run.Total) : run.Status == StageStatus.Completed ? 100 : 0;
        return new StageProgress(processed, remaining, elapsed, itemsPerSecond, tokensPerSecond, eta, percent);
    }
}
