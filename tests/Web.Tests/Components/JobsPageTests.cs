using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Web.Components.Pages.Jobs;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>The Jobs page over a real SQLite file and the real stage engine (its scheduler records instead of running jobs).</summary>
public sealed class JobsPageTests : DatabaseBunitContext
{
    private static readonly DateTime Now = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    public JobsPageTests() => Services.AddSingleton<TimeProvider>(new FixedTimeProvider(new DateTimeOffset(Now)));

    [Fact]
    public async Task Render_ShowsRatesEtaAndFailureMessages_WhenARunningRunHasFailures()
    {
        // 45 done + 5 failed in 100 s: 0.5 items/s, (4000 + 1000) tokens / 100 s, 150 items left → 300 s.
        var run = new StageRun
        {
            Kind = StageKind.Categorize, Status = StageStatus.Running, Total = 200, Done = 45, Failed = 5, PromptTokens = 4000,
            CompletionTokens = 1000, CreatedAt = Now.AddMinutes(-5), StartedAt = Now.AddSeconds(-100), LastError = "HTTP 503 from sim: overloaded",
        };
        await Database.AddAsync(Cancellation, run);
        await Database.AddAsync(Cancellation,
            new StageRunFailure { StageRunId = run.Id, ItemId = 7, Message = "Request timed out after 600 s", Attempts = 1, OccurredAt = Now.AddSeconds(-50) },
            new StageRunFailure { StageRunId = run.Id, ItemId = 11, Message = "HTTP 503 from sim: overloaded", Attempts = 1, OccurredAt = Now.AddSeconds(-10) });

        var cut = Render<JobsPage>();

        cut.WaitForAssertion(() =>
        {
            Assert.Equal("0.50 items/s", cut.Find($"#stage-run-items-rate-{run.Id}").TextContent.Trim());
            Assert.Equal("50.0 tokens/s", cut.Find($"#stage-run-tokens-rate-{run.Id}").TextContent.Trim());
            Assert.Equal("5m 00s", cut.Find($"#stage-run-eta-{run.Id}").TextContent.Trim());
            Assert.Equal("25", cut.Find($"#stage-run-progress-{run.Id}").GetAttribute("aria-valuenow"));
            Assert.Contains("45 done, 5 failed, 0 skipped of 200", cut.Find($"#stage-run-counts-{run.Id}").TextContent);
            Assert.Contains("HTTP 503 from sim: overloaded", cut.Find($"#stage-run-last-error-excerpt-{run.Id}").TextContent);
        });
        Assert.Empty(cut.FindAll("#stage-run-detail"));

        cut.Find($"#stage-run-details-{run.Id}").Click();

        cut.WaitForAssertion(() =>
        {
            var rows = cut.FindAll($"#stage-run-failures-{run.Id} tbody tr");
            // Latest first.
            Assert.Equal(2, rows.Count);
            Assert.Contains("HTTP 503 from sim: overloaded", rows[0].TextContent);
            Assert.Contains("11", rows[0].TextContent);
            Assert.Contains("Request timed out after 600 s", rows[1].TextContent);
        });
        Assert.Contains("HTTP 503 from sim: overloaded", cut.Find($"#stage-run-last-error-{run.Id}").TextContent);
    }

    [Fact]
    public async Task Render_ShowsOnlyTheLatest20Failures_WhenARunHasMore()
    {
        var run = new StageRun { Kind = StageKind.Judge, Status = StageStatus.Completed, Total = 30, Done = 5, Failed = 25, CreatedAt = Now };
        await Database.AddAsync(Cancellation, run);
        await Database.AddAsync(Cancellation, [.. Enumerable.Range(1, 25).Select(i =>
            new StageRunFailure { StageRunId = run.Id, ItemId = i, Message = $"failure of item {i}", Attempts = 1, OccurredAt = Now })]);
        var cut = Render<JobsPage>();
        cut.WaitForAssertion(() => cut.Find($"#stage-run-details-{run.Id}"));

        cut.Find($"#stage-run-details-{run.Id}").Click();

        cut.WaitForAssertion(() => Assert.Equal(20, cut.FindAll($"#stage-run-failures-{run.Id} tbody tr").Count));
        Assert.Contains("failure of item 25", cut.FindAll($"#stage-run-failures-{run.Id} tbody tr")[0].TextContent);
        Assert.Contains("latest 20 of 25", cut.Find("#stage-run-detail").TextContent);
    }

    [Fact]
    public async Task PauseButton_PausesRunInDatabase_WhenRunIsRunning()
    {
        var run = new StageRun { Kind = StageKind.Categorize, Status = StageStatus.Running, Total = 10, Done = 2, CreatedAt = Now, StartedAt = Now.AddSeconds(-4) };
        await Database.AddAsync(Cancellation, run);
        var cut = Render<JobsPage>();
        cut.WaitForAssertion(() => Assert.False(IsDisabled(cut, $"#stage-run-pause-{run.Id}")));
        Assert.True(IsDisabled(cut, $"#stage-run-resume-{run.Id}"));
        Assert.False(IsDisabled(cut, $"#stage-run-cancel-{run.Id}"));
        Assert.True(IsDisabled(cut, $"#stage-run-retry-failed-{run.Id}"));

        cut.Find($"#stage-run-pause-{run.Id}").Click();

        // The page shows the new status at once, without waiting for its poll.
        cut.WaitForAssertion(() =>
        {
            Assert.Contains("Paused", cut.Find("#jobs-grid tbody tr").TextContent);
            Assert.False(IsDisabled(cut, $"#stage-run-resume-{run.Id}"));
            Assert.True(IsDisabled(cut, $"#stage-run-pause-{run.Id}"));
        });
        await using var db = Database.CreateContext();
        var stored = await db.StageRuns.AsNoTracking().SingleAsync(r => r.Id == run.Id, Cancellation);
        Assert.Equal(StageStatus.Paused, stored.Status);
        Assert.True(stored.PauseRequested);
        Assert.Empty(Scheduler.Starts);
    }

    [Fact]
    public async Task ResumeButton_RequeuesRun_WhenRunIsPaused()
    {
        var run = new StageRun { Kind = StageKind.Categorize, Status = StageStatus.Paused, PauseRequested = true, Total = 10, Done = 2, CreatedAt = Now };
        await Database.AddAsync(Cancellation, run);
        var cut = Render<JobsPage>();
        cut.WaitForAssertion(() => Assert.False(IsDisabled(cut, $"#stage-run-resume-{run.Id}")));

        cut.Find($"#stage-run-resume-{run.Id}").Click();

        cut.WaitForAssertion(() => Assert.Contains("Queued", cut.Find("#jobs-grid tbody tr").TextContent));
        Assert.Equal([run.Id], Scheduler.Starts);
        await using var db = Database.CreateContext();
        Assert.False((await db.StageRuns.AsNoTracking().SingleAsync(r => r.Id == run.Id, Cancellation)).PauseRequested);
    }

    [Fact]
    public async Task RetryFailedButton_DeletesFailuresAndEnqueuesStart_WhenCompletedRunHasFailures()
    {
        var run = new StageRun
        {
            Kind = StageKind.Categorize, Status = StageStatus.Completed, Total = 10, Done = 8, Failed = 2, CreatedAt = Now,
            StartedAt = Now.AddSeconds(-20), FinishedAt = Now.AddSeconds(-1),
        };
        await Database.AddAsync(Cancellation, run);
        await Database.AddAsync(Cancellation,
            new StageRunFailure { StageRunId = run.Id, ItemId = 3, Message = "unparsable", Attempts = 1, OccurredAt = Now },
            new StageRunFailure { StageRunId = run.Id, ItemId = 4, Message = "timeout", Attempts = 1, OccurredAt = Now });
        var cut = Render<JobsPage>();
        cut.WaitForAssertion(() => Assert.False(IsDisabled(cut, $"#stage-run-retry-failed-{run.Id}")));
        Assert.True(IsDisabled(cut, $"#stage-run-pause-{run.Id}"));
        Assert.True(IsDisabled(cut, $"#stage-run-resume-{run.Id}"));
        Assert.True(IsDisabled(cut, $"#stage-run-cancel-{run.Id}"));

        cut.Find($"#stage-run-retry-failed-{run.Id}").Click();

        cut.WaitForAssertion(() => Assert.Equal([run.Id], Scheduler.Starts));
        await using (var db = Database.CreateContext())
        {
            Assert.Equal(0, await db.StageRunFailures.CountAsync(f => f.StageRunId == run.Id, Cancellation));
            var stored = await db.StageRuns.AsNoTracking().SingleAsync(r => r.Id == run.Id, Cancellation);
            Assert.Equal(StageStatus.Queued, stored.Status);
            Assert.Equal(0, stored.Failed);
        }
        cut.WaitForAssertion(() =>
        {
            Assert.Contains("8 done, 0 failed", cut.Find($"#stage-run-counts-{run.Id}").TextContent);
            Assert.True(IsDisabled(cut, $"#stage-run-retry-failed-{run.Id}"));
        });
    }

    [Fact]
    public async Task CancelButton_MarksRunCancelling_WhenRunIsRunning()
    {
        var run = new StageRun { Kind = StageKind.Judge, Status = StageStatus.Running, Total = 10, CreatedAt = Now };
        await Database.AddAsync(Cancellation, run);
        var cut = Render<JobsPage>();
        cut.WaitForAssertion(() => Assert.False(IsDisabled(cut, $"#stage-run-cancel-{run.Id}")));

        cut.Find($"#stage-run-cancel-{run.Id}").Click();

        cut.WaitForAssertion(() => Assert.Contains("Cancelling", cut.Find("#jobs-grid tbody tr").TextContent));
        await using var db = Database.CreateContext();
        var stored = await db.StageRuns.AsNoTracking().SingleAsync(r => r.Id == run.Id, Cancellation);
        Assert.True(stored.CancelRequested);
        Assert.True(IsDisabled(cut, $"#stage-run-cancel-{run.Id}"));
    }

    private static bool IsDisabled(IRenderedComponent<JobsPage> cut, string selector) => cut.Find(selector).HasAttribute("disabled");
}
