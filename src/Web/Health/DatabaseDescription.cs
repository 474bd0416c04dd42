using Microsoft.EntityFrameworkCore;

namespace SelfTaught.Web.Health;

/// <summary>Which database the app uses, safe to show: provider and data source (a file path or host), never credentials.</summary>
public sealed record DatabaseDescription(string Provider, string DataSource)
{
    /// <summary>Reads the description from a context without opening a connection.</summary>
    public static DatabaseDescription From(DbContext db) =>
        new(db.Database.ProviderName ?? "unknown", db.Database.GetDbConnection().DataSource);
}
