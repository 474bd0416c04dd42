using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SelfTaught.Core.Data;
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
    public async Task RunChunk_SkipsItemsAlreadyStored_WithoutCallingTheBackendOrCountingThemTwice_WhenAChunkRunsAgainWhileTheRunIsUnfinished()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(80);
        var first = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        await host.WaitForAsync(first.Id, r => r.Status == StageStatus.Completed);
        var stored = await AnalysesAsync(host);
        // The chunks as the planner cut them: every item of each has its result stored.
        var chunkSize = host.Host.Services.GetRequiredService<StageEngineOptions>().ChunkSize;
        var chunks = stored.Keys.Order().Chunk(chunkSize).Select(c => (First: c[0], Last: c[^1])).ToList();
        Assert.Equal(2, chunks.Count);
        Assert.Equal(80, sim.Stats.RequestsTo(SimRoutes.OllamaChat));

        // As a crash or Hangfire's at-least-once delivery leaves it: the run still Running and its chunk jobs delivered again.
        await ReopenAsync(host, first.Id);
        foreach (var (firstId, lastId) in chunks)
            await host.Engine.RunChunkAsync(first.Id, firstId, lastId, Ct);
        var rerun = await host.RunAsync(first.Id);

        // A second run over the same items plans them all as skipped; its chunk, delivered anyway while it is unfinished, changes nothing.
        var second = await host.Engine.CreateAsync(StageKind.Categorize, Analysis, datasetId, cancellationToken: Ct);
        var planned = await host.WaitForAsync(second.Id, r => r.Status == StageStatus.Completed);
        await ReopenAsync(host, second.Id);
        await host.Engine.RunChunkAsync(second.Id, chunks[0].First, chunks[^1].Last, Ct);
        var secondAfterRerun = await host.RunAsync(second.Id);

        Assert.Equal(80, sim.Stats.RequestsTo(SimRoutes.OllamaChat));
        Assert.Equal(stored, await AnalysesAsync(host));
        // Counted once by the run that stored them (done) and once by the run that found them stored (skipped): never again.
        Assert.Equal((StageStatus.Completed, 80, 80, 0, 0), (rerun.Status, rerun.Total, rerun.Done, rerun.Skipped, rerun.Failed));
        Assert.Equal((80, 0, 80), (planned.Total, planned.Done, planned.Skipped));
        Assert.Equal((StageStatus.Completed, 80, 0, 80, 0), (secondAfterRerun.Status, secondAfterRerun.Total, secondAfterRerun.Done, secondAfterRerun.Skipped, secondAfterRerun.Failed));
    }

    [Fact]
    public async Task RunChunk_ReadsOnlyTheItemsOfItsIdRange_NotEveryItemOfTheRun()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await host.SeedInstructionsAsync(1_000);
        List<long> ids;
        long runId;
        await using (var db = host.Db())
        {
            ids = await db.Instructions.Where(i => i.DatasetId == datasetId).OrderBy(i => i.Id).Select(i => i.Id).ToListAsync(Ct);
            // As planning leaves it (its chunks enqueued): the engine runs one chunk below, as a Hangfire worker would.
            var planned = new StageRun
            {
                Kind = StageKind.Categorize, DatasetId = datasetId, Status = StageStatus.Running, Total = 1_000, StartedAt = DateTime.UtcNow,
                CreatedAt = DateTime.UtcNow, SettingsJson = System.Text.Json.JsonSerializer.Serialize(Analysis, StageJson.Options),
            };
            db.StageRuns.Add(planned);
            await db.SaveChangesAsync(Ct);
            runId = planned.Id;
            // Instructions that arrive after planning sit past the last chunk's range.
            await db.InsertOrIgnoreAsync(Enumerable.Range(1_000, 5).Select(i => new Instruction { DatasetId = datasetId, RowIndex = i, Text = $"Late question {i}" }).ToList(), Ct);
        }
        // The last of the 20 chunks the planner cuts (ChunkSize 50 in StageHost).
        var lastChunk = ids[^50..];
        var reads = new RowsReadCounter("\"Instructions\"");
        var engine = CountingEngine(host, reads);

        await engine.RunChunkAsync(runId, lastChunk[0], lastChunk[^1], Ct);

        var run = await host.RunAsync(runId);
        await using (var db = host.Db())
            Assert.Equal(lastChunk, await db.Instructions.Where(i => i.AnalysisStageRunId == runId).OrderBy(i => i.Id).Select(i => i.Id).ToListAsync(Ct));
        Assert.Equal((StageStatus.Running, 50, 0), (run.Status, run.Done, run.Failed));
        Assert.Equal(50, sim.Stats.RequestsTo(SimRoutes.OllamaChat));
        // Its 50 items are listed, checked and loaded for writing (about 100 rows); listing the whole run reads 1,000 more.
        Assert.InRange(reads.Rows, 50, 3 * 50);
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

    private static async Task<Dictionary<long, (DateTime? AnalyzedAt, long? RunId, string? Raw)>> AnalysesAsync(StageHost host)
    {
        await using var db = host.Db();
        return await db.Instructions.AsNoTracking().ToDictionaryAsync(i => i.Id, i => (i.AnalyzedAt, i.AnalysisStageRunId, i.AnalysisRawOutput), Ct);
    }

    private static async Task ReopenAsync(StageHost host, long runId)
    {
        await using var db = host.Db();
        await db.StageRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, StageStatus.Running).SetProperty(r => r.FinishedAt, (DateTime?)null), Ct);
    }

    /// <summary>The host's engine, over contexts that count the rows their queries read.</summary>
    private static StageEngine CountingEngine(StageHost host, RowsReadCounter reads)
    {
        var services = host.Host.Services;
        var options = new DbContextOptionsBuilder<SelfTaughtDbContext>()
            .UseSelfTaughtSqlite(services.GetRequiredService<DatabaseOptions>().ConnectionString).AddInterceptors(reads).Options;
        return new StageEngine(new Contexts(options), services.GetServices<IStage>(), services.GetRequiredService<IStageScheduler>(),
            services.GetRequiredService<StageEngineOptions>(), TimeProvider.System, NullLogger<StageEngine>.Instance);
    }

    private sealed class Contexts(DbContextOptions<SelfTaughtDbContext> options) : IDbContextFactory<SelfTaughtDbContext>
    {
        public SelfTaughtDbContext CreateDbContext() => new(options);
    }

    /// <summary>Counts the rows read by queries (SELECTs, not the RETURNING of writes) from <paramref name="table"/>.</summary>
    private sealed class RowsReadCounter(string table) : DbCommandInterceptor
    {
        private int _rows;

        public int Rows => Volatile.Read(ref _rows);

        public override InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
        {
            if (command.CommandText.StartsWith("SELECT", StringComparison.Ordinal) && command.CommandText.Contains($"FROM {table}", StringComparison.Ordinal))
                Interlocked.Add(ref _rows, eventData.ReadCount);
            return result;
        }
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
