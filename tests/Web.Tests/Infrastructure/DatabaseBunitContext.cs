using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using SelfTaught.Core.Data;
using SelfTaught.Inference;
using SelfTaught.Jobs;

namespace SelfTaught.Web.Tests.Infrastructure;

/// <summary>A bUnit context whose pages read a real, migrated SQLite file.</summary>
public abstract class DatabaseBunitContext : BunitContext, IAsyncLifetime
{
    protected TempSqliteDatabase Database { get; } = new();

    protected static CancellationToken Cancellation => Xunit.TestContext.Current.CancellationToken;

    protected DatabaseBunitContext()
    {
        // The first query of a run builds the EF model; give server-paged tables more than bUnit's 1 s default.
        DefaultWaitTimeout = TimeSpan.FromSeconds(10);
        Services.AddMudServices();
        Services.AddDbContextFactory<SelfTaughtDbContext>(options => options.UseSqlite(Database.ConnectionString));
        Services.AddSingleton(Options.Create(new HangfireOptions()));
        Services.AddSingleton(Options.Create(new InferenceOptions()));
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public async ValueTask InitializeAsync() => await Database.MigrateAsync(Cancellation);

    protected override async ValueTask DisposeAsyncCore()
    {
        // Components go first: a page may still be querying the file.
        await base.DisposeAsyncCore();
        Database.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Database.Dispose();
        }
    }
}
