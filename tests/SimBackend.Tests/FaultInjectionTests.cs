using System.Net;
using System.Text.Json;

namespace SelfTaught.SimBackend.Tests;

/// <summary>Each injected fault as a plain HttpClient sees it.</summary>
public sealed class FaultInjectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string OpenAIBody = """{"model":"sim-judge","messages":[{"role":"user","content":"hello"}]}""";
    private const string OllamaBody = """{"model":"sim-judge","stream":false,"messages":[{"role":"user","content":"hello"}]}""";

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string path, string body, CancellationToken ct) =>
        http.PostAsync(path, OpenAIClientTests.Json(body), ct);

    [Theory]
    [InlineData("v1/chat/completions", OpenAIBody)]
    [InlineData("api/chat", OllamaBody)]
    public async Task Status429_CarriesRetryAfter_ThenNextRequestSucceeds(string path, string body)
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { RetryAfterSeconds = 7 }, Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        sim.FailNextRequests(2, SimFaultKind.Status429);

        using var first = await PostAsync(http, path, body, Ct);
        using var second = await PostAsync(http, path, body, Ct);
        using var third = await PostAsync(http, path, body, Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), first.Headers.RetryAfter!.Delta);
        using var error = JsonDocument.Parse(await first.Content.ReadAsStringAsync(Ct));
        Assert.True(error.RootElement.TryGetProperty("error", out _));
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(0, sim.PendingFaults);
        Assert.Equal([SimFaultKind.Status429, SimFaultKind.Status429, null], sim.Stats.ChatRequests.Select(r => r.Fault));
        Assert.Equal([429, 429, 200], sim.Stats.ChatRequests.Select(r => r.StatusCode));
    }

    [Theory]
    [InlineData("v1/chat/completions", OpenAIBody)]
    [InlineData("api/chat", OllamaBody)]
    public async Task Status500_ReturnsServerErrorInProtocolShape(string path, string body)
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        sim.FailNextRequests(1, SimFaultKind.Status500);

        using var response = await PostAsync(http, path, body, Ct);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var shape = error.RootElement.GetProperty("error");
        Assert.Equal(path.StartsWith("v1", StringComparison.Ordinal) ? JsonValueKind.Object : JsonValueKind.String, shape.ValueKind);
    }

    [Fact]
    public async Task Timeout_HangsUntilClientGivesUp()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress, Timeout = TimeSpan.FromMilliseconds(300) };
        sim.FailNextRequests(1, SimFaultKind.Timeout);

        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => PostAsync(http, "v1/chat/completions", OpenAIBody, Ct));
        using var afterwards = await PostAsync(http, "v1/chat/completions", OpenAIBody, Ct);

        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
        Assert.Equal(SimFaultKind.Timeout, sim.Stats.ChatRequests[0].Fault);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DropConnection_AbortsResponseMidway(bool stream)
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        sim.FailNextRequests(1, SimFaultKind.DropConnection);
        var body = stream ? OllamaBody.Replace("\"stream\":false", "\"stream\":true", StringComparison.Ordinal) : OllamaBody;

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/chat") { Content = OpenAIClientTests.Json(body) };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // the answer starts normally...
            await response.Content.ReadAsStringAsync(Ct);          // ...and breaks off
        });

        Assert.True(error is HttpRequestException or IOException, error.ToString());
        Assert.Equal(SimFaultKind.DropConnection, sim.Stats.ChatRequests[0].Fault);
    }

    [Theory]
    [InlineData("v1/chat/completions", OpenAIBody)]
    [InlineData("api/chat", OllamaBody)]
    public async Task InvalidJson_Returns200WithUnparseableBody(string path, string body)
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        sim.FailNextRequests(1, SimFaultKind.InvalidJson);

        using var response = await PostAsync(http, path, body, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(text));
    }

    [Fact]
    public async Task QueuedFaults_SkipNonChatRoutes_UnlessScopedToAllRequests()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };

        sim.FailNextRequests(1, SimFaultKind.Status500);
        using var tags = await http.GetAsync("api/tags", Ct);
        Assert.Equal(HttpStatusCode.OK, tags.StatusCode);
        Assert.Equal(1, sim.PendingFaults);
        sim.ClearFaults();

        sim.FailNextRequests(1, SimFaultKind.Status500, SimFaultScope.AllRequests);
        using var failed = await http.GetAsync("v1/models", Ct);
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
    }

    [Fact]
    public async Task ProbabilisticRates_CanBeSwitchedAtRuntime_AndAreSeeded()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { Rate500 = 1.0 }, Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };

        using var always = await PostAsync(http, "api/chat", OllamaBody, Ct);
        sim.Options.Rate500 = 0;
        using var never = await PostAsync(http, "api/chat", OllamaBody, Ct);
        sim.Options.Rate429 = 0.3;
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 100; i++)
        {
            using var response = await PostAsync(http, "api/chat", OllamaBody, Ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.InternalServerError, always.StatusCode);
        Assert.Equal(HttpStatusCode.OK, never.StatusCode);
        Assert.InRange(statuses.Count(s => s == HttpStatusCode.TooManyRequests), 15, 45);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task RequiredApiKey_Rejects401_WithoutBearerKey()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { RequiredApiKey = "sk-sim" }, Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };

        using var anonymous = await PostAsync(http, "v1/chat/completions", OpenAIBody, Ct);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "sk-sim");
        using var authorized = await PostAsync(http, "v1/chat/completions", OpenAIBody, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
    }
}
