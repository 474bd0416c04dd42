using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using Microsoft.Extensions.Logging;
using SelfTaught.Core.Data;
using SelfTaught.Core.Import;
using SelfTaught.Core.Import.Hub;
using SelfTaught.Core.Models;
using SelfTaught.Core.Stages;
using SelfTaught.Inference;
using SelfTaught.Jobs;

namespace SelfTaught.Web.Tests.Infrastructure;

/// <summary>A bUnit context whose pages read a real, migrated SQLite file.</summary>
public abstract class DatabaseBunitContext : BunitContext, IAsyncLifetime
{
    protected TempSqliteDatabase Database { get; } = new();

    /// <summary>Where built training sets are written; deleted on dispose.</summary>
    protected string ExportFolder { get; } = Path.Combine(Path.GetTempPath(), "selftaught-bunit-exports-" + Guid.NewGuid().ToString("N"));

    /// <summary>Records the jobs the stage engine enqueues; nothing runs in component tests.</summary>
    protected RecordingStageScheduler Scheduler { get; } = new();

    protected static CancellationToken Cancellation => Xunit.TestContext.Current.CancellationToken;

    protected DatabaseBunitContext()
    {
        // The first query of a run builds the EF model; give server-paged tables more than bUnit's 1 s default.
        DefaultWaitTimeout = TimeSpan.FromSeconds(10);
        Services.AddMudServices();
        Services.AddDbContextFactory<SelfTaughtDbContext>(options => options.UseSqlite(Database.ConnectionString));
        Services.AddSingleton(Options.Create(new HangfireOptions()));
        Services.AddSingleton(Options.Create(new InferenceOptions()));
        // The inference layer as the app registers it: default endpoint, nothing probed until a test asks.
        Services.AddSingleton(sp => sp.GetRequiredService<IOptions<InferenceOptions>>().Value);
        Services.AddSingleton(sp => new ChatClientFactory(sp.GetRequiredService<InferenceOptions>(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, _ => null));
        Services.AddSingleton<EndpointRegistry>();
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<EndpointHealthChecker>();
        Services.AddSingleton<SelfTaught.Web.Backends.BackendCatalog>();
        // The stage engine as Core registers it, over a scheduler that records instead of enqueuing Hangfire jobs.
        Services.AddLogging();
        Services.AddSingleton<IStageScheduler>(Scheduler);
        Services.AddSingleton<StageEngineOptions>();
        Services.AddSingleton<IModelResolver, SelfTaught.Web.Backends.RegistryModelResolver>();
        Services.AddSingleton<IStage, InstructionAnalysisStage>();
        Services.AddSingleton<StageEngine>();
        Services.AddSingleton<SelfTaught.Core.Experiments.ExperimentService>();
        Services.AddSingleton<SelectStage>();
        Services.AddSingleton<IStage>(sp => sp.GetRequiredService<SelectStage>());
        Services.AddSingleton<SelfTaught.Core.Experiments.ExperimentStages>();
        Services.AddSingleton<IStage, JudgeStage>();
        Services.AddSingleton<SelfTaught.Core.Experiments.IterationService>();
        Services.AddSingleton<SelfTaught.Core.Prompts.PromptTemplateService>();
        Services.AddSingleton(Options.Create(new SelfTaught.Core.Training.TrainingExportOptions { Folder = ExportFolder }));
        Services.AddSingleton<IStage, BuildTrainingSetStage>();
        // Imports as the app starts them; the Hub client points at a closed loopback port, so no test reaches the internet.
        Services.AddSingleton(new DatabaseOptions { ConnectionString = Database.ConnectionString, FilePath = Database.FilePath });
        Services.AddSingleton(sp => new HuggingFaceHubClient(new HttpClient(), new HuggingFaceHubSettings { Endpoint = new Uri("http://127.0.0.1:9") },
            sp.GetRequiredService<ILogger<HuggingFaceHubClient>>()));
        Services.AddSingleton(sp => new DatasetImporter(sp.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>(),
            sp.GetRequiredService<HuggingFaceHubClient>(), new DatasetImporterOptions(), sp.GetRequiredService<ILogger<DatasetImporter>>()));
        Services.AddSingleton<IStage, ImportStage>();
        Services.AddSingleton<SelfTaught.Web.Import.ImportLauncher>();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public async ValueTask InitializeAsync() => await Database.MigrateAsync(Cancellation);

    protected override async ValueTask DisposeAsyncCore()
    {
        // Components go first: a page may still be querying the file.
        await base.DisposeAsyncCore();
        Database.Dispose();
        DeleteExports();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Database.Dispose();
            DeleteExports();
        }
    }

    private void DeleteExports()
    {
        try { Directory.Delete(ExportFolder, recursive: true); } catch (DirectoryNotFoundException) { /* nothing built */ }
    }
}
