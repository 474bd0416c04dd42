using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SelfTaught.Core.Data;
using SelfTaught.Core.Prompts;
using SelfTaught.Core.Stages;
using SelfTaught.Core.Training;
using SelfTaught.Core.Import;
using SelfTaught.Core.Import.Hub;
using Microsoft.Extensions.Options;

namespace SelfTaught.Core;

/// <summary>Registrations of the Core project.</summary>
public static class DependencyInjection
{
    /// <summary>Registers <see cref="DatabaseOptions"/> (from <c>ConnectionStrings:SelfTaught</c>) and the DbContext factory.</summary>
    public static IHostApplicationBuilder AddCore(this IHostApplicationBuilder builder)
    {
        // Resolved lazily so configuration added by hosts and tests after this call is honoured.
        builder.Services.AddSingleton(sp => DatabaseOptions.Resolve(
            sp.GetRequiredService<IConfiguration>().GetConnectionString("SelfTaught"),
            sp.GetRequiredService<IHostEnvironment>().ContentRootPath));
        builder.Services.AddDbContextFactory<SelfTaughtDbContext>((sp, options) =>
            options.UseSelfTaughtSqlite(sp.GetRequiredService<DatabaseOptions>().ConnectionString));

        // Stage runs: the engine, and one stage per kind. The scheduler (Jobs) and model resolver (Web) come from the host.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<StageEngineOptions>();
        builder.Services.AddSingleton<StageEngine>();
        builder.Services.AddSingleton<SelfTaught.Core.Experiments.ExperimentService>();
        builder.Services.AddSingleton<IStage, InstructionAnalysisStage>();
        builder.Services.AddSingleton<IStage, ImportStage>();
        builder.Services.AddSingleton<SelectStage>();
        builder.Services.AddSingleton<IStage>(sp => sp.GetRequiredService<SelectStage>());
        builder.Services.AddSingleton<IStage, BuildTrainingSetStage>();
        builder.Services.AddSingleton<GeneratePairsStage>();
        builder.Services.AddSingleton<IStage>(sp => sp.GetRequiredService<GeneratePairsStage>());
        builder.Services.AddSingleton<SelfTaught.Core.Experiments.ExperimentStages>();
        builder.Services.AddSingleton<IStage, JudgeStage>();
        builder.Services.AddSingleton<SelfTaught.Core.Experiments.IterationService>();
        builder.Services.AddSingleton<PromptTemplateService>();
        builder.Services.AddSingleton<IStage, EvaluateStage>();
        builder.Services.AddSingleton<SelfTaught.Core.Evaluation.EvaluationService>();

        // Training-set exports: Exports:Folder, default "exports" beside the database file (the app's data folder).
        builder.Services.AddOptions<TrainingExportOptions>().BindConfiguration(TrainingExportOptions.SectionName)
            .PostConfigure<IHostEnvironment, DatabaseOptions>((options, host, database) =>
                options.Folder = TrainingExportOptions.Resolve(options.Folder, host.ContentRootPath, database.FilePath));

        // Import: files, uploads and Hugging Face Hub datasets (HF_ENDPOINT, HF_TOKEN), cached beside the database.
        builder.Services.AddOptions<DatasetImporterOptions>().BindConfiguration(DatasetImporterOptions.SectionName)
            .PostConfigure<IHostEnvironment>((options, host) => options.CacheFolder = Path.GetFullPath(options.CacheFolder, host.ContentRootPath));
        builder.Services.AddSingleton(_ => HuggingFaceHubSettings.FromEnvironment());
        // Downloads stream for as long as they make progress; the client enforces its own stall timeout.
        builder.Services.AddSingleton(sp => new HuggingFaceHubClient(new HttpClient { Timeout = Timeout.InfiniteTimeSpan },
            sp.GetRequiredService<HuggingFaceHubSettings>(), sp.GetRequiredService<ILogger<HuggingFaceHubClient>>()));
        builder.Services.AddSingleton(sp => new DatasetImporter(
            sp.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>(), sp.GetRequiredService<HuggingFaceHubClient>(),
            sp.GetRequiredService<IOptions<DatasetImporterOptions>>().Value, sp.GetRequiredService<ILogger<DatasetImporter>>()));
        return builder;
    }

    /// <summary>
    /// Checks the database file, applies migrations and sets WAL, then registers the built-in prompt templates; throws
    /// <see cref="DatabaseStartupException"/> if the file cannot be used.
    /// </summary>
    public static async Task InitializeDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var contexts = services.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>();
        await DatabaseInitializer.InitializeAsync(
            contexts,
            services.GetRequiredService<DatabaseOptions>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseInitializer).FullName!),
            !bool.TryParse(services.GetRequiredService<IConfiguration>()[DatabaseOptions.IntegrityCheckKey], out var check) || check,
            cancellationToken);
        // The built-in prompt templates are listed (and versioned) before any stage uses them.
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await PromptTemplateStore.EnsureAllBuiltInAsync(db, services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime, cancellationToken);
    }
}
