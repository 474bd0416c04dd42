using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Tests.Http;

/// <summary><c>GET /api/experiments/{id}/selection/distributions</c>: the Select panel's comparison as JSON.</summary>
[Collection(WebAppCollection.Name)]
public sealed class SelectionApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Distributions_CompareTheNotExcludedSelectionWithThePool()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        long poolId;
        List<long> ids;
        await using (var db = factory.Database.CreateContext())
        {
            var pool = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = 4, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(pool);
            await db.SaveChangesAsync(Ct);
            var rows = new[] { ("Coding", 2, 'a'), ("Coding", 2, 'b'), ("Coding", 9, 'e'), ("Extraction", 4, 'a') }
                .Select((r, i) => new Instruction { DatasetId = pool.Id, RowIndex = i, Text = $"x{i}", Category = r.Item1, Complexity = r.Item2, LengthBucket = r.Item3, AnalyzedAt = DateTime.UtcNow })
                .ToList();
            db.Instructions.AddRange(rows);
            await db.SaveChangesAsync(Ct);
            (poolId, ids) = (pool.Id, [.. rows.Select(r => r.Id)]);
        }
        using var created = await client.PostAsJsonAsync("/api/experiments", new { name = "e", datasetId = poolId, seedModel = new { model = "m" } }, Ct);
        var experimentId = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetInt64();
        await factory.Database.AddAsync(Ct,
            new ExperimentInstruction { ExperimentId = experimentId, InstructionId = ids[0] },
            new ExperimentInstruction { ExperimentId = experimentId, InstructionId = ids[3] },
            new ExperimentInstruction { ExperimentId = experimentId, InstructionId = ids[2], Excluded = true });

        var body = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/selection/distributions", Ct);
        using var missing = await client.GetAsync("/api/experiments/9999/selection/distributions", Ct);

        Assert.Equal((4, 2), (body.GetProperty("poolSize").GetInt32(), body.GetProperty("selected").GetInt32()));
        var categories = body.GetProperty("categories");
        Assert.Equal((4, 2), (categories.GetProperty("poolTotal").GetInt32(), categories.GetProperty("selectedTotal").GetInt32()));
        var coding = categories.GetProperty("rows")[0];
        Assert.Equal(("Coding", 3, 75.0, 1, 50.0), (coding.GetProperty("label").GetString(), coding.GetProperty("poolCount").GetInt32(),
            coding.GetProperty("poolShare").GetDouble(), coding.GetProperty("selectedCount").GetInt32(), coding.GetProperty("selectedShare").GetDouble()));
        var length = body.GetProperty("length").GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("label").GetString()!, r => r.GetProperty("selectedShare").GetDouble());
        Assert.Equal(100.0, length["a"]);
        Assert.Equal(0.0, length["e"]);
        Assert.Equal(10, body.GetProperty("complexity").GetProperty("rows").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }
}
