using Microsoft.Extensions.Options;
using SelfTaught.Core;
using SelfTaught.Core.Data;
using SelfTaught.Inference;
using SelfTaught.Jobs;
using SelfTaught.Web;
using SelfTaught.Web.Api;
using SelfTaught.Web.Backends;
using SelfTaught.Web.Components;
using SelfTaught.Web.Health;
using SelfTaught.Web.JobDashboard;

var builder = WebApplication.CreateBuilder(args);

builder.AddCore();
builder.AddInference();
builder.AddJobs();
builder.AddWeb();

var app = builder.Build();

try
{
    await app.Services.InitializeDatabaseAsync();
    await app.Services.GetRequiredService<BackendCatalog>().LoadAsync(CancellationToken.None);

    app.UseWebMiddleware();

    app.MapStaticAssets();
    app.MapOpenApi();
    app.MapHealthEndpoint();
    app.MapApi();
    app.MapJobDashboard();
    app.MapRazorComponents<App>()
        .AddInteractiveServerRenderMode();

    await app.RunAsync();
    return 0;
}
catch (DatabaseStartupException ex)
{
    // Never fall back to a fresh database: stop, say which setting and file, leave the file alone.
    return StartupFailure.Report(app.Logger, ex.Message);
}
catch (OptionsValidationException ex)
{
    return StartupFailure.Report(app.Logger, string.Join(" ", ex.Failures));
}
