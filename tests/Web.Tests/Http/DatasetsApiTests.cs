using System.Net;
using System.Text.Json;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;

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

    [Fact]
    public async Task List_IncludesRejectedAndDuplicateCounts_WhenTheImportDroppedRows()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        await factory.Database.AddAsync(Cancellation, new Dataset
        {
            Name = "prompts", Role = DatasetRole.InstructionPool, RowCount = 90, RejectedCount = 7, DuplicateCount = 3, CreatedAt = DateTime.UtcNow,
        });

        using var json = JsonDocument.Parse(await client.GetStringAsync("/api/datasets", Cancellation));

        var item = Assert.Single(json.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal(90, item.GetProperty("rowCount").GetInt32());
        Assert.Equal(7, item.GetProperty("rejectedCount").GetInt32());
        Assert.Equal(3, item.GetProperty("duplicateCount").GetInt32());
    }

    [Fact]
    public async Task Get_ReturnsSettingsAndReport_WhenTheDatasetWasImported()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var report = new ImportReport
        {
            Format = "jsonl", Preset = "instructions", Files = [new ImportedFile("prompts.jsonl", 1234)],
            Columns = new Dictionary<string, string> { ["prompt"] = "text" }, Filters = new ImportFilters { Language = "English", Dedupe = true },
            RowsRead = 10, Imported = 8, Rejected = 1, Duplicates = 1,
            Rejections = [new RejectionSummary(RejectionReasons.EmptyPrompt, 1, [new RowExample(4, "the prompt is empty", null)])],
            DuplicateExamples = [new RowExample(9, "same normalized text as an earlier row", "Hi")],
            StartedAt = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc), CompletedAt = new DateTime(2025, 1, 1, 0, 0, 2, DateTimeKind.Utc),
        };
        var dataset = new Dataset
        {
            Name = "prompts", Role = DatasetRole.InstructionPool, Preset = "instructions", Source = "prompts.jsonl", RowCount = 8,
            RejectedCount = 1, DuplicateCount = 1, ContentHash = "ab12", ImportReportJson = report.ToJson(), CreatedAt = DateTime.UtcNow,
        };
        await factory.Database.AddAsync(Cancellation, dataset);

        using var json = JsonDocument.Parse(await client.GetStringAsync($"/api/datasets/{dataset.Id}", Cancellation));

        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("dataset").GetProperty("rejectedCount").GetInt32());
        Assert.Equal("ab12", root.GetProperty("contentHash").GetString());
        Assert.Equal("jsonl", root.GetProperty("format").GetString());
        Assert.Equal("text", root.GetProperty("columns").GetProperty("prompt").GetString());
        Assert.Equal("English", root.GetProperty("filters").GetProperty("language").GetString());
        var rejection = Assert.Single(root.GetProperty("report").GetProperty("rejections").EnumerateArray());
        Assert.Equal("empty-prompt", rejection.GetProperty("reason").GetString());
        Assert.Equal(4, rejection.GetProperty("examples")[0].GetProperty("rowIndex").GetInt64());
        Assert.Equal(10, root.GetProperty("report").GetProperty("rowsRead").GetInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("problem").ValueKind);
    }

    [Fact]
    public async Task Get_Returns404_WhenTheDatasetIsMissingOrStillImporting()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var importing = new Dataset { Name = "half", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Importing, CreatedAt = DateTime.UtcNow };
        await factory.Database.AddAsync(Cancellation, importing);

        using var missing = await client.GetAsync("/api/datasets/999", Cancellation);
        using var hidden = await client.GetAsync($"/api/datasets/{importing.Id}", Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
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
