using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Tests.Http;

/// <summary>
/// <c>GET /api/experiments/{id}/selection</c> and <c>.../selection/distributions</c>: the Select panel's list and comparison as JSON.
/// </summary>
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

    [Fact]
    public async Task List_PagesTheSelectionByPoolRow_WithItsAnalysisAndContamination()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var (experimentId, ids) = await SeedSelectionAsync(factory, client);

        var first = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/selection?page=1&pageSize=2", Ct);
        var second = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/selection?page=2&pageSize=2", Ct);

        Assert.Equal(4, first.GetProperty("totalCount").GetInt32());
        // Pool rows 0, 1, 3, 4 are selected (row 2 is not): ordered by row, whichever order they were stored in.
        Assert.Equal([0, 1], first.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("rowIndex").GetInt32()));
        Assert.Equal([3, 4], second.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("rowIndex").GetInt32()));
        var exact = first.GetProperty("items")[1];
        Assert.Equal(ids[1], exact.GetProperty("instructionId").GetInt64());
        Assert.Equal(("Coding", 7, "b"), (exact.GetProperty("category").GetString(), exact.GetProperty("complexity").GetInt32(), exact.GetProperty("lengthBucket").GetString()));
        Assert.Equal(("ExactMatch", "gsm8k / test / 12", true),
            (exact.GetProperty("contamination").GetString(), exact.GetProperty("contaminationMatch").GetString(), exact.GetProperty("excluded").GetBoolean()));
        // Long texts are cut to the excerpt length; short ones are whole.
        Assert.Equal(new string('w', 240), exact.GetProperty("excerpt").GetString());
        var clean = first.GetProperty("items")[0];
        Assert.Equal(("Instruction 0", "None", false), (clean.GetProperty("excerpt").GetString(), clean.GetProperty("contamination").GetString(), clean.GetProperty("excluded").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, clean.GetProperty("contaminationMatch").ValueKind);
        var unanalyzed = second.GetProperty("items")[1];
        Assert.Equal(JsonValueKind.Null, unanalyzed.GetProperty("category").ValueKind);
        Assert.Equal(JsonValueKind.Null, unanalyzed.GetProperty("lengthBucket").ValueKind);
    }

    [Theory]
    [InlineData("contamination=contaminated", new[] { 1, 3 })]
    [InlineData("contamination=ngramoverlap", new[] { 3 })]
    [InlineData("contamination=None", new[] { 0, 4 })]
    [InlineData("excluded=true", new[] { 1 })]
    [InlineData("excluded=false&contamination=contaminated", new[] { 3 })]
    public async Task List_Filters_ByContaminationAndExclusion(string query, int[] rows)
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var (experimentId, _) = await SeedSelectionAsync(factory, client);

        var body = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/selection?{query}", Ct);

        Assert.Equal(rows, body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("rowIndex").GetInt32()));
        Assert.Equal(rows.Length, body.GetProperty("totalCount").GetInt32());
    }

    [Theory]
    [InlineData("page=0", "page", "page is 1-based")]
    [InlineData("pageSize=501", "pageSize", "pageSize must be between 1 and 500.")]
    [InlineData("pageSize=0", "pageSize", "pageSize must be between 1 and 500.")]
    [InlineData("contamination=dirty", "contamination", "contamination must be one of None, ExactMatch, NGramOverlap or contaminated, not 'dirty'.")]
    [InlineData("contamination=1", "contamination", "not '1'")]
    [InlineData("excluded=maybe", "excluded", "excluded must be true or false, not 'maybe'.")]
    public async Task List_AnswersBadRequestNamingTheParameter_WhenPagingOrAFilterIsBad(string query, string parameter, string message)
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var (experimentId, _) = await SeedSelectionAsync(factory, client);

        using var response = await client.GetAsync($"/api/experiments/{experimentId}/selection?{query}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains(message, problem.GetProperty("errors").GetProperty(parameter)[0].GetString());
    }

    [Fact]
    public async Task List_AnswersNotFound_ForAnUnknownExperiment_AndAnEmptyPageForOneWithoutASelection()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        long poolId;
        await using (var db = factory.Database.CreateContext())
        {
            var pool = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(pool);
            await db.SaveChangesAsync(Ct);
            poolId = pool.Id;
        }
        using var created = await client.PostAsJsonAsync("/api/experiments", new { name = "e", datasetId = poolId, seedModel = new { model = "m" } }, Ct);
        var experimentId = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetInt64();

        using var missing = await client.GetAsync("/api/experiments/9999/selection", Ct);
        var empty = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/selection", Ct);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("Experiment 9999 does not exist.", (await missing.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());
        Assert.Equal((0, 0), (empty.GetProperty("totalCount").GetInt32(), empty.GetProperty("items").GetArrayLength()));
    }

    /// <summary>
    /// A pool of 5 (row 1 has a 300-character text, row 4 is not analyzed) and an experiment selecting rows 4, 3, 1, 0
    /// (stored in that order): row 1 an excluded exact match, row 3 a kept n-gram match, rows 0 and 4 clean.
    /// </summary>
    private static async Task<(long ExperimentId, List<long> Ids)> SeedSelectionAsync(SelfTaughtWebFactory factory, HttpClient client)
    {
        long poolId;
        List<long> ids;
        await using (var db = factory.Database.CreateContext())
        {
            var pool = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = 5, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(pool);
            await db.SaveChangesAsync(Ct);
            var rows = Enumerable.Range(0, 5).Select(i => new Instruction
            {
                DatasetId = pool.Id, RowIndex = i, Text = i == 1 ? new string('w', 300) : $"Instruction {i}",
                Category = i < 4 ? "Coding" : null, Complexity = i < 4 ? i + 6 : null, LengthBucket = i < 4 ? "abcd"[i] : null, AnalyzedAt = i < 4 ? DateTime.UtcNow : null,
            }).ToList();
            db.Instructions.AddRange(rows);
            await db.SaveChangesAsync(Ct);
            (poolId, ids) = (pool.Id, [.. rows.Select(r => r.Id)]);
        }
        using var created = await client.PostAsJsonAsync("/api/experiments", new { name = "e", datasetId = poolId, seedModel = new { model = "m" } }, Ct);
        var experimentId = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetInt64();
        await factory.Database.AddAsync(Ct,
            new ExperimentInstruction { ExperimentId = experimentId, InstructionId = ids[4] },
            new ExperimentInstruction { ExperimentId = experimentId, InstructionId = ids[3], Contamination = ContaminationKind.NGramOverlap, ContaminationMatch = "mt-bench / train / 3" },
            new ExperimentInstruction { ExperimentId = experimentId, InstructionId = ids[1], Contamination = ContaminationKind.ExactMatch, ContaminationMatch = "gsm8k / test / 12", Excluded = true },
            new ExperimentInstruction { ExperimentId = experimentId, InstructionId = ids[0] });
        return (experimentId, ids);
    }
}
