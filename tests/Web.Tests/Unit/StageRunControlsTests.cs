using SelfTaught.Core.Data.Entities;
using SelfTaught.Web.Components.Pages.Jobs;

namespace SelfTaught.Web.Tests.Unit;

/// <summary>The Jobs page offers exactly the actions the stage engine accepts in each status.</summary>
public sealed class StageRunControlsTests
{
    [Theory]
    [InlineData(StageStatus.Queued, true, false, true)]
    [InlineData(StageStatus.Running, true, false, true)]
    [InlineData(StageStatus.Paused, false, true, true)]
    [InlineData(StageStatus.Cancelling, false, false, false)]
    [InlineData(StageStatus.Cancelled, false, false, false)]
    [InlineData(StageStatus.Failed, false, false, false)]
    [InlineData(StageStatus.Completed, false, false, false)]
    public void PauseResumeCancel_FollowTheStatus(StageStatus status, bool pause, bool resume, bool cancel)
    {
        Assert.Equal(pause, StageRunControls.CanPause(status));
        Assert.Equal(resume, StageRunControls.CanResume(status));
        Assert.Equal(cancel, StageRunControls.CanCancel(status));
    }

    [Theory]
    [InlineData(StageStatus.Completed, 2, true)]
    [InlineData(StageStatus.Completed, 0, false)]
    [InlineData(StageStatus.Paused, 1, true)]
    [InlineData(StageStatus.Cancelled, 3, true)]
    [InlineData(StageStatus.Failed, 0, true)]
    [InlineData(StageStatus.Running, 5, false)]
    [InlineData(StageStatus.Queued, 5, false)]
    [InlineData(StageStatus.Cancelling, 5, false)]
    public void RetryFailed_NeedsARunAtRestWithSomethingToRetry(StageStatus status, int failed, bool expected) =>
        Assert.Equal(expected, StageRunControls.CanRetryFailed(status, failed));
}
