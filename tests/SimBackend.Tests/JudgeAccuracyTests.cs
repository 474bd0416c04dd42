using Microsoft.Extensions.AI;
using OllamaSharp;

namespace SelfTaught.SimBackend.Tests;

/// <summary>
/// The simulator judges pairs it synthesized itself correctly with probability p and guesses otherwise; measured
/// here through the real client over hundreds of pairs, as the annotation stage would.
/// </summary>
public sealed class JudgeAccuracyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] Topics =
    [
        "How do I compute the area of a circle with radius 3?", "Explain why leaves change color in autumn.",
        "Write a python function that checks whether a string is a palindrome.", "What caused the fall of the Roman Empire?",
        "Give me advice on preparing for a job interview.", "Summarize the plot of Hamlet.",
        "Translate 'good morning' into Spanish and explain the grammar.", "Brainstorm names for a coffee shop.",
        "How does compound interest work?", "Describe how a refrigerator keeps food cold.",
    ];

    private sealed record Outcome(char? Verdict, char Gold);

    /// <summary>Synthesizes a pair (Fig. 2) for instruction i, judges it (Fig. 8) with y_w at a seeded position.</summary>
    private static async Task<Outcome> JudgeOwnPairAsync(IChatClient client, int i, bool foreign)
    {
        var instruction = $"{Topics[i % Topics.Length]} (case {i})";
        var good = (await client.GetResponseAsync([new ChatMessage(ChatRole.User, instruction)], new ChatOptions { Seed = 10_000 + i }, Ct)).Text;
        string worse;
        if (foreign)
        {
            worse = "An unrelated answer written elsewhere, without the simulator's mark.";
        }
        else
        {
            var synthesis = (await client.GetResponseAsync(
                [new ChatMessage(ChatRole.User, PaperPrompts.PairSynthesis(instruction, good))], new ChatOptions { Seed = 20_000 + i }, Ct)).Text;
            worse = PaperPrompts.Between(synthesis, "The start of Assistant's answer to the modified instruction", "The end of Assistant's answer to the modified instruction")
                ?? throw new InvalidOperationException("markers missing: " + synthesis);
        }

        var gold = i % 3 == 0 ? 'B' : 'A'; // unequal split so a position-biased judge could not pass by accident
        var (a, b) = gold == 'A' ? (good, worse) : (worse, good);
        var judgment = (await client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, PaperPrompts.JudgeSystem), new ChatMessage(ChatRole.User, PaperPrompts.JudgeUser(instruction, a, b))],
            new ChatOptions { Seed = 30_000 + i, Temperature = 0.7f, TopP = 0.9f }, Ct)).Text;
        return new Outcome(PaperPrompts.ParseVerdict(judgment), gold);
    }

    private static async Task<List<Outcome>> RunAsync(SimServer sim, int pairs, bool foreign)
    {
        using var client = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");
        var outcomes = new List<Outcome>();
        foreach (var batch in Enumerable.Range(0, pairs).Chunk(16))
        {
            outcomes.AddRange(await Task.WhenAll(batch.Select(i => JudgeOwnPairAsync(client, i, foreign))));
        }

        return outcomes;
    }

    [Theory]
    [InlineData(0.8)]
    [InlineData(0.6)]
    public async Task ObservedAccuracy_IsCloseToConfiguredP_ForSelfSynthesizedPairs(double p)
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = p }, Ct);

        var outcomes = await RunAsync(sim, 400, foreign: false);

        Assert.All(outcomes, o => Assert.NotNull(o.Verdict));
        var accuracy = outcomes.Count(o => o.Verdict == o.Gold) / (double)outcomes.Count;
        // Binomial(400, p) has a standard deviation of at most 0.025; the run is seeded, so this is deterministic.
        Assert.InRange(accuracy, p - 0.06, p + 0.06);
    }

    [Fact]
    public async Task Verdicts_AreCoinFlips_ForPairsTheSimulatorDidNotSynthesize()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 1.0 }, Ct);

        var outcomes = await RunAsync(sim, 200, foreign: true);

        var accuracy = outcomes.Count(o => o.Verdict == o.Gold) / (double)outcomes.Count;
        Assert.InRange(accuracy, 0.38, 0.62);
    }

    [Fact]
    public async Task PerModelAccuracy_OverridesDefault()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions
        {
            JudgeAccuracy = 0.5,
            JudgeAccuracyByModel = new Dictionary<string, double> { ["sim-judge"] = 1.0 },
        }, Ct);

        var outcomes = await RunAsync(sim, 40, foreign: false);

        Assert.All(outcomes, o => Assert.Equal(o.Gold, o.Verdict));
    }

    [Fact]
    public async Task MalformedRate_ProducesJudgmentsWithoutExactlyOneVerdict()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MalformedRate = 0.5 }, Ct);
        using var client = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");

        var texts = new List<string>();
        for (var seed = 0; seed < 60; seed++)
        {
            texts.Add((await ((IChatClient)client).GetResponseAsync(
                [new ChatMessage(ChatRole.System, PaperPrompts.JudgeSystem), new ChatMessage(ChatRole.User, PaperPrompts.JudgeUser("q?", "one", "two"))],
                new ChatOptions { Seed = seed }, Ct)).Text);
        }

        var malformed = texts.Where(t => PaperPrompts.ParseVerdict(t) is null).ToList();
        Assert.InRange(malformed.Count, 15, 45);
        Assert.Contains(malformed, t => t.Contains("[[C]]", StringComparison.Ordinal));
        Assert.Contains(malformed, t => t.Contains("[[A]]", StringComparison.Ordinal) && t.Contains("[[B]]", StringComparison.Ordinal));
        Assert.Contains(malformed, t => !t.Contains("[[", StringComparison.Ordinal));
    }
}
