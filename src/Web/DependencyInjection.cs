using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using MudBlazor.Services;
using SelfTaught.Core.Data;
using SelfTaught.Core.Models;
using SelfTaught.Web.Backends;
using SelfTaught.Web.Health;
using SelfTaught.Web.Import;

namespace SelfTaught.Web;

/// <summary>Registrations and middleware of the web host: UI, HTTP API, OpenAPI, health and logging.</summary>
public static class DependencyInjection
{
    /// <summary>Adds the Blazor UI (interactive server), MudBlazor, OpenAPI, health checks and JSON console logs.</summary>
    public static IHostApplicationBuilder AddWeb(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddJsonConsole(options =>
        {
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });

        builder.Services.AddRazorComponents()
            .AddInteractiveServerComponents();
        builder.Services.AddMudServices();

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<MachineRouteExceptionHandler>();
        builder.Services.AddOpenApi();
        // Enums (status, kinds, modes) travel as their names in every HTTP API.
        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));

        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>(DatabaseHealthCheck.Name)
            .AddCheck<JobQueueHealthCheck>(JobQueueHealthCheck.Name)
            .AddCheck<BackendsHealthCheck>(BackendsHealthCheck.Name);

        // Keys that protect antiforgery tokens and circuits live beside the database (the container's volume), so a
        // restart does not invalidate open pages.
        builder.Services.AddDataProtection();
        builder.Services.AddOptions<KeyManagementOptions>().Configure<DatabaseOptions, ILoggerFactory>((options, database, logs) =>
            options.XmlRepository = new FileSystemXmlRepository(
                new DirectoryInfo(Path.Combine(Path.GetDirectoryName(database.FilePath)!, "keys")), logs));

        // Core reaches models only through its port; the inference layer's registry implements it here.
        builder.Services.AddSingleton<IModelResolver, RegistryModelResolver>();
        builder.Services.AddSingleton<IModelIdentifier, RegistryModelIdentifier>();
        builder.Services.AddSingleton<BackendCatalog>();
        // One way to start an import, shared by the HTTP API and the Data page.
        builder.Services.AddSingleton<ImportLauncher>();

        return builder;
    }

    /// <summary>
    /// Error handling and antiforgery. Pages get the HTML error and not-found pages; machine routes (API, health,
    /// OpenAPI, job dashboard) keep their own status codes and answer errors as problem details.
    /// </summary>
    public static WebApplication UseWebMiddleware(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
        }

        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.Use(MachineRoutes.SkipStatusCodePages);
        app.UseAntiforgery();
        return app;
    }
}
