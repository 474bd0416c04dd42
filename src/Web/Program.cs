using Microsoft.Extensions.Options;
using SelfTaught.Core;
using SelfTaught.Core.Data;
using SelfTaught.Inference;
using SelfTaught.Jobs;
using SelfTaught.Web;
using SelfTaught.Web.Api;
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
}
catch (DatabaseStartupException ex)
{
    // Never fall back to a fresh database: stop, say which setting and file, leave the file alone.
    return StartupFailure.Report(app.Logger, ex.Message);
}

app.UseWebMiddleware();

app.MapStaticAssets();
app.MapOpenApi();
app.MapHealthEndpoint();
app.MapApi();
app.MapJobDashboard();
app.MapRazorComponents<App>()
    .AddInteractiveServerRenderMode();

try
{
    await app.RunAsync();
}
catch (OptionsValidationException ex)
{
    return StartupFailure.Report(app.Logger, string.Join(" ", ex.Failures));
}
return 0;
