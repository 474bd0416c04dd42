using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Stages;
using SelfTaught.SimBackend;
using static SelfTaught.Jobs.Tests.StageHost;

namespace SelfTaught.Jobs.Tests;

/// <summary>How stage runs end when something goes wrong around them: errors, cancellation of queued work, overlapping runs.</summary>
[Collection(HangfireHostCollection.Name)]
public class StageEngineFailureTests
{
    private static readonly InstructionAnalysisSettings Analysis = new("sim-judge");

    [Fact]
    public async Task ARunWhoseResultsCannotBeStored_Fails_WithTheDatabasesMessage_InsteadOfHanging()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(120);
        await using (var db = host.Db())
            await db.Database.ExecuteSqlRawAsync("CREATE TRIGGER no_writes BEFORE UPDATE ON \"Instructions\" BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;", Ct);

        var run = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed or StageStatus.Cancelled, seconds: 30);

        Assert.Equal(StageStatus.Failed, finished.Status);
        Assert.Contains("the disk is full", finished.LastError);
        Assert.NotNull(finished.FinishedAt);
    }

    [Fact]
    public async Task AChunkOfARunCancelledWhileItWaitedInTheQueue_FinishesTheCancellation()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(10);
        long runId;
        await using (var db = host.Db())
        {
            // As a run stands when Cancel arrives after planning, before any of its chunks got a worker.
            var run = new StageRun
            {
                Kind = StageKind.Categorize, DatasetId = datasetId, Status = StageStatus.Cancelling, CancelRequested = true, Total = 10,
                SettingsJson = System.Text.Json.JsonSerializer.Serialize(Analysis, StageJson.Options), CreatedAt = DateTime.UtcNow, StartedAt = DateTime.UtcNow,
            };
            db.StageRuns.Add(run);
            await db.SaveChangesAsync(Ct);
            runId = run.Id;
        }

        await host.Engine.RunChunkAsync(runId, 0, long.MaxValue, Ct);

        var after = await host.RunAsync(runId);
        Assert.Equal(StageStatus.Cancelled, after.Status);
        Assert.NotNull(after.FinishedAt);
        Assert.Equal(0, sim.Stats.RequestsTo(SimRoutes.OllamaChat));
    }

    [Fact]
    public async Task ASecondRunOverTheSameItems_IsRefused_WhileTheFirstIsUnfinished()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { LatencyMs = 20 }, Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(150);
        var other = await host.SeedInstructionsAsync(5);

        var first = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        var refused = await Assert.ThrowsAsync<StageException>(() => host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct));
        var elsewhere = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, other, cancellationToken: Ct);
        var a = await host.WaitForAsync(first.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);
        await host.WaitForAsync(elsewhere.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);
        var again = await host.Engine.CreateAsync(StageKind.Categorize, Analysis with { OnlyMissing = false }, datasetId, cancellationToken: Ct);
        var b = await host.WaitForAsync(again.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        Assert.Contains($"Stage run {first.Id} (Categorize) over the same data is still", refused.Message);
        Assert.Equal((StageStatus.Completed, 150), (a.Status, a.Done));
        Assert.Equal((StageStatus.Completed, 150), (b.Status, b.Done));
    }
}
