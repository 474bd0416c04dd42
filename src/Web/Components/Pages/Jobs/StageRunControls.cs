using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Components.Pages.Jobs;

/// <summary>Which controls a stage run offers in each status; mirrors what <see cref="SelfTaught.Core.Stages.StageEngine"/> accepts.</summary>
public static class StageRunControls
{
    /// <summary>Statuses in which a run can still change by itself (or be resumed), so the Jobs page keeps polling.</summary>
    public static bool IsActive(StageStatus status) =>
        status is StageStatus.Queued or StageStatus.Running or StageStatus.Paused or StageStatus.Cancelling;

    /// <summary>Only a queued or running run takes new items, so only it can be paused.</summary>
    public static bool CanPause(StageStatus status, StageKind kind = StageKind.Categorize) =>
        (status is StageStatus.Queued or StageStatus.Running) && kind != StageKind.Import;

    /// <summary>Only a paused run can be resumed.</summary>
    public static bool CanResume(StageStatus status) => status == StageStatus.Paused;

    /// <summary>A run that has not finished and is not already cancelling can be cancelled.</summary>
    public static bool CanCancel(StageStatus status) => status is StageStatus.Queued or StageStatus.Running or StageStatus.Paused;

    /// <summary>
    /// A run at rest (paused, finished, failed or cancelled) with failed items, or one that failed as a whole, can run
    /// its failed items again; the engine refuses while chunks may still be working.
    /// </summary>
    public static bool CanRetryFailed(StageStatus status, int failed) =>
        status is not (StageStatus.Queued or StageStatus.Running or StageStatus.Cancelling) && (failed > 0 || status == StageStatus.Failed);
}
