using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Tests.Http;

/// <summary><c>GET /api/datasets/{id}/rows?page=&amp;pageSize=&amp;q=</c> for instruction pools and pair datasets.</summary>
[Collection(WebAppCollection.Name)]
public sealed class DatasetRowsApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rows_ArePagedInSourceOrder_AndSearched_ForPoolsAndPairs()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        _ = factory.Server;
        long pool, pairs, importing;
        await using (var db = factory.Database.CreateContext())
        {
            var p = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, CreatedAt = DateTime.UtcNow };
            var b = new Dataset { Name = "rb", Role = DatasetRole.Benchmark, Status = DatasetStatus.Ready, CreatedAt = DateTime.UtcNow };
            var i = new Dataset { Name = "hidden", Role = DatasetRole.Benchmark, Status = DatasetStatus.Importing, CreatedAt = DateTime.UtcNow };
            db.Datasets.AddRange(p, b, i);
            await db.SaveChangesAsync(Ct);
            db.Instructions.AddRange(Enumerable.Range(0, 7).Select(n => new Instruction { DatasetId = p.Id, RowIndex = 6 - n, Text = n % 2 == 0 ? $"Sort a list {6 - n}" : $"Write a poem {6 - n}" }));
            db.LabeledPairs.AddRange(Enumerable.Range(0, 5).Select(n => new LabeledPair
            {
                DatasetId = b.Id, RowIndex = n, Subset = "math-prm", SourceId = "7", Prompt = $"What is {n} + {n}?", ResponseA = $"{2 * n}", ResponseB = n == 3 ? "banana" : "0",
                Gold = GoldLabel.A, MetadataJson = "{\"source\":\"x\"}",
            }));
            await db.SaveChangesAsync(Ct);
            (pool, pairs, importing) = (p.Id, b.Id, i.Id);
        }

        var firstPage = await client.GetFromJsonAsync<JsonElement>($"/api/datasets/{pool}/rows?page=1&pageSize=3", Ct);
        var poems = await client.GetFromJsonAsync<JsonElement>($"/api/datasets/{pool}/rows?q=poem", Ct);
        var pairPage = await client.GetFromJsonAsync<JsonElement>($"/api/datasets/{pairs}/rows?page=2&pageSize=2", Ct);
        var banana = await client.GetFromJsonAsync<JsonElement>($"/api/datasets/{pairs}/rows?q=banana", Ct);
        using var hidden = await client.GetAsync($"/api/datasets/{importing}/rows", Ct);
        using var badPage = await client.GetAsync($"/api/datasets/{pool}/rows?page=0", Ct);

        Assert.Equal(7, firstPage.GetProperty("totalCount").GetInt32());
        Assert.Equal([0, 1, 2], firstPage.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("rowIndex").GetInt32()));
        Assert.Equal(3, poems.GetProperty("totalCount").GetInt32());
        Assert.Equal(5, pairPage.GetProperty("totalCount").GetInt32());
        var third = pairPage.GetProperty("items")[0];
        Assert.Equal((2, "What is 2 + 2?", "4", "A", "math-prm"), (third.GetProperty("rowIndex").GetInt32(), third.GetProperty("prompt").GetString(),
            third.GetProperty("responseA").GetString(), third.GetProperty("gold").GetString(), third.GetProperty("subset").GetString()));
        Assert.Equal(3, Assert.Single(banana.GetProperty("items").EnumerateArray()).GetProperty("rowIndex").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badPage.StatusCode);
    }
}
