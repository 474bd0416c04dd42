using System.Text.Json;

namespace SelfTaught.Web.Tests.Http;

[Collection(WebAppCollection.Name)]
public sealed class OpenApiTests(SelfTaughtWebFactory factory)
{
    [Fact]
    public async Task GetDocument_DescribesDatasetsAndHealth_WhenRequested()
    {
        using var client = factory.CreateClient();

        var text = await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);

        using var document = JsonDocument.Parse(text);
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/datasets", out var datasets), "GET /api/datasets is missing");
        Assert.True(datasets.TryGetProperty("get", out _));
        Assert.True(paths.TryGetProperty("/health", out _), "GET /health is missing");
        // Enums are documented as their names, matching what the API sends.
        var roles = document.RootElement.GetProperty("components").GetProperty("schemas")
            .GetProperty("DatasetRole").GetProperty("enum").EnumerateArray().Select(e => e.GetString());
        Assert.Contains("InstructionPool", roles);
    }
}
