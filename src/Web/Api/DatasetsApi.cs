using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Api;

/// <summary>A dataset as listed by <c>GET /api/datasets</c> and on the Data page.</summary>
public sealed record DatasetSummary(
    long Id,
    string Name,
    DatasetRole Role,
    string? Preset,
    string? Source,
    int RowCount,
    DateTime CreatedAt);

/// <summary>Dataset endpoints under <c>/api/datasets</c>.</summary>
public static class DatasetsApi
{
    public static RouteGroupBuilder MapDatasetsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets").WithTags("Datasets");

        group.MapGet("/", ListDatasetsAsync)
            .WithName("ListDatasets")
            .WithSummary("Imported datasets, newest first, server-paged");

        return api;
    }

    private static async Task<Results<Ok<PagedResult<DatasetSummary>>, ValidationProblem>> ListDatasetsAsync(
        IDbContextFactory<SelfTaughtDbContext> contextFactory,
        CancellationToken cancellationToken,
        int page = 1,
        int pageSize = Paging.DefaultPageSize)
    {
        if (Paging.Validate(page, pageSize) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        await using var db = await contextFactory.CreateDbContextAsync(cancellationToken);
        return TypedResults.Ok(await ListAsync(db, (page - 1) * pageSize, pageSize, cancellationToken));
    }

    /// <summary>One page of datasets, newest first.</summary>
    public static async Task<PagedResult<DatasetSummary>> ListAsync(
        SelfTaughtDbContext db, int skip, int take, CancellationToken cancellationToken)
    {
        var query = db.Datasets.AsNoTracking().Where(d => d.Status == DatasetStatus.Ready);
        var total = await query.CountAsync(cancellationToken);
        var items = await query
            .OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id)
            .Skip(skip).Take(take)
            .Select(d => new DatasetSummary(d.Id, d.Name, d.Role, d.Preset, d.Source, d.RowCount, d.CreatedAt))
            .ToListAsync(cancellationToken);
        return new PagedResult<DatasetSummary>(items, total);
    }
}
