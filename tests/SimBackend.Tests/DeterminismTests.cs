using Microsoft.Extensions.AI;
using OllamaSharp;

namespace SelfTaught.SimBackend.Tests;

public sealed class DeterminismTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> AskAsync(IChatClient client, string prompt, long? seed, float? temperature = 0.7f) =>
        (await client.GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], new ChatOptions { Seed = seed, Temperature = temperature }, Ct)).Text;

    [Fact]
    public async Task SameSeed_GivesSameText_AcrossRequestsAndServers()
    {
        await using var first = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var second = await SimServer.StartAsync(new SimOptions(), Ct);
        using var a = new OllamaApiClient(new Uri(first.BaseUri), "sim-judge");
        using var b = new OllamaApiClient(new Uri(second.BaseUri), "sim-judge");

        var one = await AskAsync(a, "How do vaccines train the immune system?", 1234);
        var again = await AskAsync(a, "How do vaccines train the immune system?", 1234);
        var elsewhere = await AskAsync(b, "How do vaccines train the immune system?", 1234);

        Assert.Equal(one, again);
        Assert.Equal(one, elsewhere);
    }

    [Fact]
    public async Task DifferentSeeds_GiveDifferentTexts()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var client = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");

        var texts = new List<string>();
        for (var seed = 0; seed < 10; seed++) texts.Add(await AskAsync(client, "How do vaccines train the immune system?", seed));

        Assert.Equal(10, texts.Distinct().Count());
    }

    [Fact]
    public async Task UnseededRequests_Differ_AndServerSeedAndModelChangeText()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var reseeded = await SimServer.StartAsync(new SimOptions { Seed = 99 }, Ct);
        using var judge = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");
        using var generator = new OllamaApiClient(new Uri(sim.BaseUri), "sim-generator");
        using var other = new OllamaApiClient(new Uri(reseeded.BaseUri), "sim-judge");
        const string prompt = "Plan a three-day trip to Lisbon.";

        var unseeded = new[] { await AskAsync(judge, prompt, null), await AskAsync(judge, prompt, null), await AskAsync(judge, prompt, null) };

        Assert.Equal(3, unseeded.Distinct().Count());
        Assert.NotEqual(await AskAsync(judge, prompt, 5), await AskAsync(generator, prompt, 5));
        Assert.NotEqual(await AskAsync(judge, prompt, 5), await AskAsync(other, prompt, 5));
    }

    [Fact]
    public async Task ZeroTemperature_IgnoresSeed_OnlyWhenGreedyModeIsOn()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var client = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");
        const string prompt = "Why is the sky blue?";

        var sampled = new[] { await AskAsync(client, prompt, 1, 0f), await AskAsync(client, prompt, 2, 0f) };
        sim.Options.GreedyAtZeroTemperature = true;
        var greedy = new[] { await AskAsync(client, prompt, 1, 0f), await AskAsync(client, prompt, 2, 0f), await AskAsync(client, prompt, null, 0f) };

        Assert.NotEqual(sampled[0], sampled[1]);
        Assert.Single(greedy.Distinct());
    }
}
