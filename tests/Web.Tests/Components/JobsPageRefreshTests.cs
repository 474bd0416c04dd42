using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Web.Components.Pages.Jobs;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>
/// The Jobs page's polling: a stage run's counters change in the database (as a job in any process writes them) and
/// the page shows them on its next tick, driven by a clock whose timers fire only when the test says so.
/// </summary>
public sealed class JobsPageRefreshTests : DatabaseBunitContext
{
    // The page's refresh interval (private to JobsPage): the test first checks that a timer with this period exists.
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);
    private static readonly DateTime Created = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly ManualTimeProvider _clock = new();

    public JobsPageRefreshTests() => Services.AddSingleton<TimeProvider>(_clock);

    [Fact]
    public async Task PeriodicRefresh_ShowsTheNewProgress_WhenARunsCountersChangeAndTheIntervalPasses()
    {
        var run = new StageRun { Kind = StageKind.Categorize, Status = StageStatus.Running, Total = 200, Done = 10, CreatedAt = Created, StartedAt = Created };
        await Database.AddAsync(Cancellation, run);
        var cut = Render<JobsPage>();
        cut.WaitForAssertion(() =>
        {
            Assert.Equal("10 done, 0 failed, 0 skipped of 200", Counts(cut, run.Id));
            Assert.Equal("5", Percent(cut, run.Id));
        });
        cut.WaitForAssertion(() => Assert.Equal(1, _clock.ActiveTimers(RefreshInterval)));

        // The job stores more items; the page shows nothing new until its interval passes.
        await UpdateAsync(run.Id, 150, 10, StageStatus.Running);
        Assert.Equal("10 done, 0 failed, 0 skipped of 200", Counts(cut, run.Id));

        Assert.Equal(1, _clock.Fire(RefreshInterval));
        cut.WaitForAssertion(() =>
        {
            Assert.Equal("150 done, 10 failed, 0 skipped of 200", Counts(cut, run.Id));
            Assert.Equal("80", Percent(cut, run.Id));
        });

        // The run finishes between two ticks: the next one shows it complete.
        await UpdateAsync(run.Id, 190, 10, StageStatus.Completed);
        Assert.Equal(1, _clock.Fire(RefreshInterval));
        cut.WaitForAssertion(() =>
        {
            Assert.Equal("190 done, 10 failed, 0 skipped of 200", Counts(cut, run.Id));
            Assert.Equal("100", Percent(cut, run.Id));
            Assert.Contains("Completed", cut.Find("#jobs-grid tbody tr").TextContent);
        });
    }

    private async Task UpdateAsync(long runId, int done, int failed, StageStatus status)
    {
        await using var db = Database.CreateContext();
        await db.StageRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.Done, done).SetProperty(r => r.Failed, failed).SetProperty(r => r.Status, status), Cancellation);
    }

    private static string Counts(IRenderedComponent<JobsPage> cut, long runId) => cut.Find($"#stage-run-counts-{runId}").TextContent.Trim();

    private static string? Percent(IRenderedComponent<JobsPage> cut, long runId) => cut.Find($"#stage-run-progress-{runId}").GetAttribute("aria-valuenow");
}
