using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.SimBackend;

namespace SelfTaught.Web.Tests.Http;

/// <summary>
/// The app as a real child process, killed with SIGKILL in the middle of an instruction-analysis stage that calls
/// SimBackend, then restarted: the stage completes and every item's result is stored exactly once.
/// </summary>
public sealed class CrashRecoveryTests : IAsyncDisposable
{
    private const int Instructions = 600;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "selftaught-crash-" + Guid.NewGuid().ToString("N"));
    private Process? _app;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Categorize_CompletesExactlyOnce_AfterTheAppIsKilledMidStageAndRestarted()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { LatencyMs = 30 }, Ct);
        var database = Path.Combine(_folder, "data", "selftaught.db");
        var datasetId = await SeedAsync(database);
        var port = FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        _app = StartApp(sim, port);
        await WaitForHealthAsync(http);
        using var started = await http.PostAsJsonAsync($"/api/datasets/{datasetId}/categorize", new { model = "sim-judge" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = (await started.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("stageRunId").GetInt64();
        var beforeKill = await WaitForRunAsync(http, runId, r => r.GetProperty("done").GetInt32() >= 100);
        Assert.Equal("Running", beforeKill.GetProperty("status").GetString());

        _app.Kill(); // SIGKILL on Linux: no shutdown, no flush, queued jobs lost with the in-memory queue.
        await _app.WaitForExitAsync(Ct);
        var requestsAtKill = sim.Stats.RequestsTo(SimRoutes.OllamaChat);
        Assert.True(requestsAtKill < Instructions, "the stage must still have had work left when killed");

        _app = StartApp(sim, port);
        await WaitForHealthAsync(http);
        var finished = await WaitForRunAsync(http, runId, r => r.GetProperty("status").GetString() is "Completed" or "Failed" or "Cancelled");

        Assert.Equal("Completed", finished.GetProperty("status").GetString());
        Assert.Equal(Instructions, finished.GetProperty("total").GetInt32());
        Assert.Equal(Instructions, finished.GetProperty("done").GetInt32());
        Assert.Equal(0, finished.GetProperty("failed").GetInt32());
        await using var db = Context(database);
        var rows = await db.Instructions.AsNoTracking().Where(i => i.DatasetId == datasetId).ToListAsync(Ct);
        Assert.Equal(Instructions, rows.Count);
        Assert.All(rows, i => Assert.Equal(runId, i.AnalysisStageRunId));
        // Work redone after the kill is bounded by what was in flight or answered but not yet written (at most one
        // write batch of 100 plus the chunks' parallelism): never a second pass over stored items.
        var requests = sim.Stats.RequestsTo(SimRoutes.OllamaChat);
        Assert.InRange(requests, Instructions, Instructions + 100 + 32);
    }

    private async Task<long> SeedAsync(string database)
    {
        var options = DatabaseOptions.Resolve($"Data Source={database}", _folder);
        var factory = new Factory(options.ConnectionString);
        await DatabaseInitializer.InitializeAsync(factory, options, NullLogger.Instance, cancellationToken: Ct);
        await using var db = factory.CreateDbContext();
        var dataset = new Dataset { Name = "wild", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = Instructions, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Ct);
        await db.InsertOrIgnoreAsync(Enumerable.Range(0, Instructions).Select(i => new Instruction
        {
            DatasetId = dataset.Id, RowIndex = i, Text = $"Prove that the sum of the first {i + 1} odd numbers is a perfect square.",
        }).ToList(), Ct);
        SqliteConnection.ClearAllPools();
        return dataset.Id;
    }

    private Process StartApp(SimServer sim, int port)
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "SelfTaught.Web.dll")])
        {
            WorkingDirectory = _folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Inference__Endpoints__0__Name"] = "sim";
        info.Environment["Inference__Endpoints__0__Kind"] = "Ollama";
        info.Environment["Inference__Endpoints__0__BaseUrl"] = sim.BaseUri;
        info.Environment["Inference__Endpoints__0__DefaultModel"] = "sim-judge";
        info.Environment["Inference__Endpoints__0__MaxConcurrentRequests"] = "4";
        var process = Process.Start(info)!;
        // Drain the pipes so a chatty app never blocks on a full buffer.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitForHealthAsync(HttpClient http)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_app!.HasExited) throw new InvalidOperationException($"The app exited with code {_app.ExitCode}.");
            try
            {
                using var response = await http.GetAsync("/health", Ct);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100, Ct);
        }
        throw new TimeoutException("The app did not start within 60 s.");
    }

    private static async Task<JsonElement> WaitForRunAsync(HttpClient http, long runId, Func<JsonElement, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        JsonElement run = default;
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            run = await http.GetFromJsonAsync<JsonElement>($"/api/stage-runs/{runId}", Ct);
            if (condition(run)) return run;
            await Task.Delay(50, Ct);
        }
        throw new TimeoutException($"Stage run {runId} did not reach the condition: {run}");
    }

    private static SelfTaughtDbContext Context(string database) =>
        new(new DbContextOptionsBuilder<SelfTaughtDbContext>().UseSqlite($"Data Source={database};Pooling=False").Options);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { HasExited: false })
        {
            _app.Kill(entireProcessTree: true);
            await _app.WaitForExitAsync(CancellationToken.None);
        }
        _app?.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { /* best effort */ }
    }

    private sealed class Factory(string connectionString) : IDbContextFactory<SelfTaughtDbContext>
    {
        public SelfTaughtDbContext CreateDbContext() =>
            new(new DbContextOptionsBuilder<SelfTaughtDbContext>().UseSqlite(connectionString).Options);
    }
}
