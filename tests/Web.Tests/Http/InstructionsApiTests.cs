using System.Net;
using System.Text.Json;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Tests.Http;

/// <summary>The HTTP twins of the Data page's instruction-pool panel.</summary>
[Collection(WebAppCollection.Name)]
public sealed class InstructionsApiTests
{
    private static readonly DateTime Created = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task List_FiltersByLanguageCategoryAndState_InSourceOrder()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var pool = await SeedAsync(factory);

        var coding = await GetAsync(client, $"/api/datasets/{pool}/instructions?category=Coding");
        var french = await GetAsync(client, $"/api/datasets/{pool}/instructions?language=French");
        var errors = await GetAsync(client, $"/api/datasets/{pool}/instructions?state=ParseError");
        var pending = await GetAsync(client, $"/api/datasets/{pool}/instructions?state=NotAnalyzed&pageSize=1&page=2");

        Assert.Equal(["Sort a list in Python", "Écris une fonction en Rust"], Texts(coding));
        Assert.Equal(["Écris une fonction en Rust", "Résume ce texte"], Texts(french));
        Assert.Equal(["Tell me a joke"], Texts(errors));
        Assert.Equal(2, pending.RootElement.GetProperty("totalCount").GetInt32());
        Assert.Equal(["Résume ce texte"], Texts(pending));
        var row = coding.RootElement.GetProperty("items")[0];
        Assert.Equal(7, row.GetProperty("complexity").GetInt32());
        Assert.Equal("c", row.GetProperty("lengthBucket").GetString());
    }

    [Fact]
    public async Task List_FiltersByTurnsAndAnswerLength_AndRejectsAnUnknownLength()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var pool = await SeedAsync(factory);

        var multi = await GetAsync(client, $"/api/datasets/{pool}/instructions?turns=Multi");
        var single = await GetAsync(client, $"/api/datasets/{pool}/instructions?turns=Single&language=French");
        var paragraphs = await GetAsync(client, $"/api/datasets/{pool}/instructions?length=d");
        using var invalid = await client.GetAsync($"/api/datasets/{pool}/instructions?length=z", Cancellation);

        Assert.Equal(["Tell me a joke", "Résume ce texte"], Texts(multi));
        Assert.Equal(["Écris une fonction en Rust"], Texts(single));
        Assert.Equal(["Écris une fonction en Rust"], Texts(paragraphs));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("length", await invalid.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task Analysis_CountsStatesAndDistributions()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var pool = await SeedAsync(factory);

        using var json = await GetAsync(client, $"/api/datasets/{pool}/analysis");

        var root = json.RootElement;
        Assert.Equal(5, root.GetProperty("total").GetInt32());
        Assert.Equal(2, root.GetProperty("analyzed").GetInt32());
        Assert.Equal(2, root.GetProperty("notAnalyzed").GetInt32());
        Assert.Equal(1, root.GetProperty("parseErrors").GetInt32());
        var categories = root.GetProperty("categories").EnumerateArray().Select(c => (c.GetProperty("label").GetString(), c.GetProperty("count").GetInt32())).ToList();
        Assert.Equal([("Coding", 2)], categories);
        Assert.Equal(10, root.GetProperty("complexity").GetArrayLength());
        Assert.Equal(5, root.GetProperty("length").GetArrayLength());
        Assert.Equal(2, root.GetProperty("languages").EnumerateArray().Single(l => l.GetProperty("label").GetString() == "French").GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Endpoints_Return404_WhenTheDatasetDoesNotExist()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();

        using var analysis = await client.GetAsync("/api/datasets/999/analysis", Cancellation);
        using var list = await client.GetAsync("/api/datasets/999/instructions", Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, analysis.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);
    }

    private static async Task<long> SeedAsync(SelfTaughtWebFactory factory)
    {
        var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, RowCount = 5, CreatedAt = Created };
        dataset.Instructions.AddRange(
        [
            new Instruction { RowIndex = 0, Text = "Sort a list in Python", Language = "English", Category = "Coding", Complexity = 7, LengthBucket = 'c', AnalyzedAt = Created },
            new Instruction { RowIndex = 1, Text = "Tell me a joke", Language = "English", TurnCount = 3, LengthBucket = 'a', AnalyzedAt = Created, AnalysisError = "missing or invalid: Category" },
            new Instruction { RowIndex = 2, Text = "Écris une fonction en Rust", Language = "French", Category = "Coding", Complexity = 5, LengthBucket = 'd', AnalyzedAt = Created },
            new Instruction { RowIndex = 3, Text = "What is the capital of Peru?", Language = "English" },
            new Instruction { RowIndex = 4, Text = "Résume ce texte", Language = "French", TurnCount = 2 },
        ]);
        await factory.Database.AddAsync(Cancellation, dataset);
        return dataset.Id;
    }

    private static async Task<JsonDocument> GetAsync(HttpClient client, string url) =>
        JsonDocument.Parse(await client.GetStringAsync(url, Cancellation));

    private static List<string?> Texts(JsonDocument page) =>
        [.. page.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("excerpt").GetString())];
}
