using System.Net;
using System.Text.Json;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Tests.Http;

[Collection(WebAppCollection.Name)]
public sealed class DatasetsApiTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task List_ReturnsRequestedPageNewestFirstWithRoleAsString_WhenDatasetsExist()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var created = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        await factory.Database.AddAsync(Cancellation,
            new Dataset { Name = "oldest", Role = DatasetRole.InstructionPool, RowCount = 1, CreatedAt = created },
            new Dataset { Name = "middle", Role = DatasetRole.LabeledPairs, RowCount = 2, CreatedAt = created.AddDays(1) },
            new Dataset { Name = "newest", Role = DatasetRole.Benchmark, RowCount = 3, CreatedAt = created.AddDays(2) });

        using var json = JsonDocument.Parse(
            await client.GetStringAsync("/api/datasets?page=2&pageSize=2", Cancellation));

        Assert.Equal(3, json.RootElement.GetProperty("totalCount").GetInt32());
        var item = Assert.Single(json.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal("oldest", item.GetProperty("name").GetString());
        Assert.Equal("InstructionPool", item.GetProperty("role").GetString());
        Assert.Equal(1, item.GetProperty("rowCount").GetInt32());
    }

    [Theory]
    [InlineData("page=0")]
    [InlineData("pageSize=0")]
    [InlineData("pageSize=100000")]
    public async Task List_Returns400_WhenPagingIsOutOfRange(string query)
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync($"/api/datasets?{query}", Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
