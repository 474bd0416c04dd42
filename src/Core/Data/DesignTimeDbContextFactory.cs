using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace SelfTaught.Core.Data;

/// <summary>Lets <c>dotnet ef migrations add X --project src/Core</c> build the model without starting the web app.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<SelfTaughtDbContext>
{
    public SelfTaughtDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SelfTaughtDbContext>().UseSqlite(DatabaseOptions.DefaultConnectionString).Options);
}
