using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Http;

/// <summary>The real app on a TestServer, with its database in a temp SQLite file and in-memory job storage.</summary>
public class SelfTaughtWebFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Hangfire:Storage"] = "InMemory",
        // Keep test output readable; the JSON console logs are for operators.
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public SelfTaughtWebFactory() => _settings["ConnectionStrings:SelfTaught"] = Database.ConnectionString;

    public TempSqliteDatabase Database { get; } = new();

    /// <summary>Overrides one setting; call before the first request.</summary>
    public SelfTaughtWebFactory With(string key, string value)
    {
        _settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Database.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Hangfire keeps process-wide state (<c>JobStorage.Current</c>, <c>GlobalConfiguration</c>), so tests that start the
/// app run one at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WebAppCollection : ICollectionFixture<SelfTaughtWebFactory>
{
    public const string Name = "Web app";
}
