using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Stages;
using SelfTaught.SimBackend;
using static SelfTaught.Jobs.Tests.StageHost;

namespace SelfTaught.Jobs.Tests;

/// <summary>Stage runs on Hangfire's in-memory queue over SQLite, calling SimBackend through the real Ollama client.</summary>
[Collection(HangfireHostCollection.Name)]
public class StageEngineTests
{
    private static readonly InstructionAnalysisSettings Analysis = new("sim-judge");

    [Fact]
    public async Task Categorize_AnalyzesEveryInstructionOnce_WithCountersTokensAndTheTemplateVersion()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(230);

        var run = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        Assert.Equal(StageStatus.Completed, finished.Status);
        Assert.Equal((230, 230, 0, 0), (finished.Total, finished.Done, finished.Failed, finished.Skipped));
        Assert.True(finished.PromptTokens > 230 && finished.CompletionTokens > 230);
        Assert.NotNull(finished.StartedAt);
        Assert.NotNull(finished.FinishedAt);
        Assert.Equal(230, sim.Stats.RequestsTo(SimRoutes.OllamaChat));
        await using var db = host.Db();
        var rows = await db.Instructions.AsNoTracking().ToListAsync(Ct);
        Assert.All(rows, i =>
        {
            Assert.Equal(run.Id, i.AnalysisStageRunId);
            Assert.NotNull(i.AnalysisRawOutput);
            Assert.NotNull(i.AnalysisTemplateId);
            Assert.True(i.Category is not null || i.AnalysisError is not null, "a result or a parse error is stored");
        });
        Assert.True(rows.Count(i => i.AnalysisError is null) > 200, "SimBackend answers Fig. 7 in its format");
        var template = await db.PromptTemplates.SingleAsync(t => t.Key == "instruction-analysis", Ct);
        Assert.Equal((1, true), (template.Version, template.IsBuiltIn));
        Assert.All(rows, i => Assert.Equal(template.Id, i.AnalysisTemplateId));
        Assert.Contains("Figure 7", template.Source);
    }

    [Fact]
    public async Task Categorize_SkipsInstructionsAlreadyAnalyzed_AndRerunningAChunkStoresNothingTwice()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(80);
        var first = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        await host.WaitForAsync(first.Id, r => r.Status == StageStatus.Completed);
        long firstId, lastId;
        await using (var db = host.Db())
        {
            firstId = await db.Instructions.MinAsync(i => i.Id, Ct);
            lastId = await db.Instructions.MaxAsync(i => i.Id, Ct);
        }

        // A chunk that runs again (Hangfire at-least-once, or a crash) finds every item stored.
        await host.Engine.RunChunkAsync(first.Id, firstId, lastId, Ct);
        var second = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        var skipped = await host.WaitForAsync(second.Id, r => r.Status == StageStatus.Completed);

        Assert.Equal(80, sim.Stats.RequestsTo(SimRoutes.OllamaChat));
        Assert.Equal(80, (await host.RunAsync(first.Id)).Done);
        Assert.Equal((80, 0, 80), (skipped.Total, skipped.Done, skipped.Skipped));
    }

    [Fact]
    public async Task Failures_AreRecordedWithTheirMessage_AndRetryFailedRunsOnlyThose()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim, new() { ["Inference:Retry:MaxRetries"] = "0" });
        var datasetId = await host.SeedInstructionsAsync(40);
        sim.FailNextRequests(5, SimFaultKind.Status500);

        var run = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Completed);
        await using (var db = host.Db())
        {
            var failures = await db.StageRunFailures.Where(f => f.StageRunId == run.Id).ToListAsync(Ct);
            Assert.Equal(5, failures.Count);
            Assert.All(failures, f => Assert.Contains("HTTP 500", f.Message));
        }
        var retried = await host.Engine.RetryFailedAsync(run.Id, Ct);
        var again = await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Completed && r.Failed == 0);

        Assert.Equal((35, 5), (finished.Done, finished.Failed));
        Assert.Contains("HTTP 500", finished.LastError);
        Assert.Equal(5, retried);
        Assert.Equal((40, 40, 0), (again.Total, again.Done, again.Failed));
        Assert.Equal(45, sim.Stats.RequestsTo(SimRoutes.OllamaChat));
    }

    [Fact]
    public async Task Pause_StopsTakingItems_AndResumeFinishesTheRest()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { LatencyMs = 20 }, Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(300);

        var run = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        await host.WaitForAsync(run.Id, r => r.Done >= 20);
        Assert.True(await host.Engine.PauseAsync(run.Id, Ct));
        // In-flight items finish; then nothing more reaches the server.
        await WaitQuietAsync(sim);
        var paused = await host.RunAsync(run.Id);
        var requestsWhilePaused = sim.Stats.RequestsTo(SimRoutes.OllamaChat);
        Assert.True(await host.Engine.ResumeAsync(run.Id, Ct));
        var finished = await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Completed);

        Assert.Equal(StageStatus.Paused, paused.Status);
        Assert.InRange(paused.Done, 20, 299);
        Assert.True(requestsWhilePaused < 300);
        Assert.Equal((300, 0), (finished.Done, finished.Failed));
        Assert.Equal(300, sim.Stats.RequestsTo(SimRoutes.OllamaChat));
    }

    [Fact]
    public async Task Cancel_AbortsRequestsInFlight_AndKeepsFinishedItems()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { LatencyMs = 20 }, Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(300);
        var run = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        await host.WaitForAsync(run.Id, r => r.Done >= 10);
        sim.HoldChatRequests();
        await sim.Stats.WaitForInFlightChatRequestsAsync(4, TimeSpan.FromSeconds(30), Ct);

        Assert.True(await host.Engine.CancelAsync(run.Id, Ct));
        await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Cancelled);
        sim.ReleaseChatRequests();

        // Other chunks may still be writing the items they had finished: wait until the counter and the rows agree.
        StageRun cancelled;
        int analyzed;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            cancelled = await host.RunAsync(run.Id);
            await using (var db = host.Db())
                analyzed = await db.Instructions.CountAsync(i => i.AnalysisStageRunId == run.Id, Ct);
            if (cancelled.Done == analyzed || DateTime.UtcNow > deadline) break;
            await Task.Delay(50, Ct);
        }
        Assert.Equal(cancelled.Done, analyzed);
        Assert.InRange(analyzed, 10, 299);
        Assert.Equal(0, cancelled.Failed);
        Assert.NotNull(cancelled.FinishedAt);
    }

    [Fact]
    public async Task Concurrency_ComesFromTheEndpointLimit_NotFromTheWorkerCount()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { LatencyMs = 15 }, Ct);
        await using var host = await StageHost.StartAsync(sim, new()
        {
            ["Inference:Endpoints:0:MaxConcurrentRequests"] = "6",
            ["Hangfire:WorkerCount"] = "1",
        });
        var datasetId = await host.SeedInstructionsAsync(200);

        var run = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Completed);

        // One Hangfire worker still keeps the endpoint at its limit of 6, and never above it.
        Assert.Equal(6, sim.Stats.MaxConcurrentChatRequests);
    }

    [Fact]
    public async Task Start_FailsTheRun_WithAClearMessage_WhenTheModelIsUnknown()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(3);

        var run = await host.Engine.CreateAsync(StageKind.Categorize, new InstructionAnalysisSettings("sim-judge", Endpoint: "missing"), datasetId, cancellationToken: Ct);
        var failed = await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Failed);

        Assert.Contains("No endpoint named 'missing'", failed.LastError);
    }

    [Fact]
    public async Task Recover_ReenqueuesUnfinishedRuns_WhoseJobsWereLost()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(60);
        long runId;
        await using (var db = host.Db())
        {
            // As a crash leaves it: marked running, its queued jobs gone with the process.
            var orphan = new StageRun
            {
                Kind = StageKind.Categorize, DatasetId = datasetId, Status = StageStatus.Running, Total = 60, StartedAt = DateTime.UtcNow,
                CreatedAt = DateTime.UtcNow, SettingsJson = System.Text.Json.JsonSerializer.Serialize(Analysis, StageJson.Options),
            };
            db.StageRuns.Add(orphan);
            await db.SaveChangesAsync(Ct);
            runId = orphan.Id;
        }

        var recovered = await host.Engine.RecoverAsync(Ct);
        var finished = await host.WaitForAsync(runId, r => r.Status == StageStatus.Completed);

        Assert.Equal(1, recovered);
        Assert.Equal(60, finished.Done);
    }

    private static async Task WaitQuietAsync(SimServer sim)
    {
        // Quiet = no chat request in flight and the count unchanged over a few flag-poll intervals.
        var last = -1L;
        for (var stable = 0; stable < 5;)
        {
            await Task.Delay(60, Ct);
            var now = sim.Stats.RequestsTo(SimRoutes.OllamaChat);
            stable = now == last && sim.Stats.InFlightChatRequests == 0 ? stable + 1 : 0;
            last = now;
        }
    }
}
