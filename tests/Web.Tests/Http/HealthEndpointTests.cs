using System.Net;
using System.Text.Json;

namespace SelfTaught.Web.Tests.Http;

[Collection(WebAppCollection.Name)]
public sealed class HealthEndpointTests(SelfTaughtWebFactory factory)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetHealth_Returns200WithDatabaseAndJobQueue_WhenAppIsUp()
    {
        using var client = factory.CreateClient();

        // The Hangfire server registers itself shortly after start: wait for it rather than sleeping.
        var body = await WaitForHealthAsync(client, h => h.GetProperty("jobQueue").GetProperty("servers").GetInt32() >= 1);

        // An unreachable LLM server degrades the app but never makes it unhealthy (no server runs here).
        Assert.Contains(body.GetProperty("status").GetString(), new[] { "Healthy", "Degraded" });
        var database = body.GetProperty("database");
        Assert.Equal("Healthy", database.GetProperty("status").GetString());
        Assert.Equal("Microsoft.EntityFrameworkCore.Sqlite", database.GetProperty("provider").GetString());
        Assert.Equal(factory.Database.FilePath, database.GetProperty("dataSource").GetString());
        var jobQueue = body.GetProperty("jobQueue");
        Assert.Equal("Healthy", jobQueue.GetProperty("status").GetString());
        Assert.Equal("InMemory", jobQueue.GetProperty("storage").GetString());
        var backends = body.GetProperty("backends");
        // No LLM server runs here: the default endpoint is either not checked yet or unreachable, which degrades
        // the app (still 200) rather than making it unhealthy.
        Assert.Contains(backends.GetProperty("status").GetString(), new[] { "Healthy", "Degraded" });
        var endpoint = Assert.Single(backends.GetProperty("endpoints").EnumerateArray());
        Assert.Equal("ollama", endpoint.GetProperty("name").GetString());
        Assert.Equal("http://localhost:11434", endpoint.GetProperty("baseUrl").GetString());
        Assert.Contains(endpoint.GetProperty("state").GetString(), new[] { "Unknown", "Unhealthy" });
    }

    [Fact]
    public async Task GetHealth_Returns503_WhenDatabaseFileWasReplacedByAnEmptyOne()
    {
        await using var broken = new SelfTaughtWebFactory();
        using var client = broken.CreateClient();
        using (var ok = await client.GetAsync("/health", Cancellation))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // Someone deletes the database under the running app: SQLite then opens a new, unmigrated file.
        broken.Database.Dispose();

        using var response = await client.GetAsync("/health", Cancellation);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal("Unhealthy", json.RootElement.GetProperty("status").GetString());
        var database = json.RootElement.GetProperty("database");
        Assert.Equal("Unhealthy", database.GetProperty("status").GetString());
        Assert.True(database.GetProperty("pendingMigrations").GetInt32() > 0);
    }

    private static async Task<JsonElement> WaitForHealthAsync(HttpClient client, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var response = await client.GetAsync("/health", Cancellation);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
            var body = json.RootElement.Clone();
            if (condition(body) || DateTime.UtcNow > deadline)
            {
                return body;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), Cancellation);
        }
    }
}
