using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SelfTaught.Core;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Models;
using SelfTaught.Core.Stages;
using SelfTaught.Inference;
using SelfTaught.SimBackend;
using SelfTaught.Web.Backends;

namespace SelfTaught.Jobs.Tests;

/// <summary>
/// A host wired like the app (Core + Inference + Jobs on Hangfire's in-memory queue) over a temp SQLite file, with its
/// LLM endpoint pointing at SimBackend on loopback.
/// </summary>
internal sealed class StageHost : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "selftaught-stages-" + Guid.NewGuid().ToString("N"));

    private StageHost(IHost host, string folder)
    {
        Host = host;
        _folder = folder;
    }

    public IHost Host { get; }

    public StageEngine Engine => Host.Services.GetRequiredService<StageEngine>();

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<StageHost> StartAsync(SimServer sim, Dictionary<string, string?>? settings = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "selftaught-stages-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = folder });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:SelfTaught"] = "Data Source=data/app.db",
            ["Inference:Endpoints:0:Name"] = "sim",
            ["Inference:Endpoints:0:Kind"] = "Ollama",
            ["Inference:Endpoints:0:BaseUrl"] = sim.BaseUri,
            ["Inference:Endpoints:0:DefaultModel"] = "sim-judge",
            ["Inference:Endpoints:0:MaxConcurrentRequests"] = "4",
            ["Inference:Retry:BaseDelayMs"] = "10",
            ["Inference:Retry:MaxDelayMs"] = "20",
            ["Inference:HealthCheckIntervalSeconds"] = "3600",
        });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.AddCore();
        builder.AddInference();
        builder.AddJobs();
        builder.Services.AddSingleton<IModelResolver, RegistryModelResolver>();
        builder.Services.AddSingleton<IModelIdentifier, RegistryModelIdentifier>();
        builder.Services.AddSingleton(new StageEngineOptions { ChunkSize = 50, FlagPollInterval = TimeSpan.FromMilliseconds(50), BatchDelay = TimeSpan.FromMilliseconds(100) });
        var host = builder.Build();
        await host.Services.InitializeDatabaseAsync(Ct);
        await host.StartAsync(Ct);
        return new StageHost(host, folder);
    }

    public SelfTaughtDbContext Db() => Host.Services.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>().CreateDbContext();

    /// <summary>A ready instruction pool of <paramref name="count"/> prompts.</summary>
    public async Task<long> SeedInstructionsAsync(int count)
    {
        await using var db = Db();
        var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = count, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Ct);
        await db.InsertOrIgnoreAsync(Enumerable.Range(0, count).Select(i => new Instruction
        {
            DatasetId = dataset.Id, RowIndex = i, Text = $"Question {i}: how many ways can {i % 7 + 2} people sit around a round table?",
        }).ToList(), Ct);
        return dataset.Id;
    }

    public async Task<StageRun> RunAsync(long stageRunId)
    {
        await using var db = Db();
        return await db.StageRuns.AsNoTracking().SingleAsync(r => r.Id == stageRunId, Ct);
    }

    /// <summary>Waits until the run satisfies <paramref name="condition"/> (polling the database, as the UI does).</summary>
    public async Task<StageRun> WaitForAsync(long stageRunId, Func<StageRun, bool> condition, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var run = await RunAsync(stageRunId);
            if (condition(run)) return run;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Stage run {stageRunId} stayed {run.Status} (done {run.Done}/{run.Total}, failed {run.Failed}, error {run.LastError}).");
            await Task.Delay(25, Ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync(CancellationToken.None);
        Host.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { /* best effort */ }
    }
}
