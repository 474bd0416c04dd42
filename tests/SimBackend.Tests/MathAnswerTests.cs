using System.ClientModel;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using OllamaSharp;
using OpenAI;

namespace SelfTaught.SimBackend.Tests;

/// <summary>
/// With an answer key (question → final answer), plain prompts that are key questions get answers ending <c>#### n</c>,
/// right with probability <c>MathAccuracy</c>; other prompts are untouched.
/// </summary>
public sealed class MathAnswerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string> Key(int count) =>
        Enumerable.Range(0, count).ToDictionary(i => $"Tom has {i} apples and buys {i + 3} more.  How many apples does he have?",
            i => (2 * i + 3).ToString(CultureInfo.InvariantCulture));

    private static string? FinalAnswer(string text)
    {
        var marker = text.LastIndexOf("####", StringComparison.Ordinal);
        return marker < 0 ? null : text[(marker + 4)..].Trim();
    }

    [Fact]
    public async Task KeyQuestions_EndWithTheRightAnswer_AtMathAccuracy_OverBothProtocols()
    {
        var key = Key(200);
        await using var sim = await SimServer.StartAsync(new SimOptions { MathAnswerKey = key, MathAccuracy = 0.7 }, Ct);
        IChatClient openai = new OpenAI.Chat.ChatClient("sim-generator", new ApiKeyCredential("unused"),
            new OpenAIClientOptions { Endpoint = sim.OpenAIBaseUri }).AsIChatClient();
        using var ollama = new OllamaApiClient(new Uri(sim.BaseUri), "sim-generator");

        var right = 0;
        var index = 0;
        foreach (var (question, answer) in key)
        {
            // Whitespace differs from the key's (double space): questions match after normalization.
            var asked = question.Replace("  ", " ", StringComparison.Ordinal);
            IChatClient client = index % 2 == 0 ? openai : ollama;
            var text = (await client.GetResponseAsync([new ChatMessage(ChatRole.User, asked)], new ChatOptions { Seed = index, Temperature = 0.7f }, Ct)).Text;
            var final = FinalAnswer(text);
            Assert.NotNull(final);
            Assert.StartsWith("(simulated response)", text, StringComparison.Ordinal);
            if (final == answer) right++;
            index++;
        }

        // 200 draws at p = 0.7: mean 140, standard deviation 6.5.
        Assert.InRange(right, 120, 160);
        var other = (await openai.GetResponseAsync([new ChatMessage(ChatRole.User, "Tell me about apples.")], new ChatOptions { Seed = 1 }, Ct)).Text;
        Assert.DoesNotContain("####", other, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(1.0, 20)]
    public async Task MathAccuracy_AtItsBounds_IsNeverOrAlwaysRight(double accuracy, int expected)
    {
        var key = Key(20);
        await using var sim = await SimServer.StartAsync(new SimOptions { MathAnswerKey = key, MathAccuracy = accuracy }, Ct);
        using var client = new OllamaApiClient(new Uri(sim.BaseUri), "sim-generator");
        var right = 0;
        foreach (var (question, answer) in key)
        {
            var text = (await ((IChatClient)client).GetResponseAsync([new ChatMessage(ChatRole.User, question)], new ChatOptions { Seed = 5 }, Ct)).Text;
            var final = FinalAnswer(text);
            Assert.NotNull(final);
            if (final == answer) right++;
        }
        Assert.Equal(expected, right);
    }

    [Fact]
    public void MathAnswerKeyFile_ReadsGsm8kJsonLines_FromConfiguration_AndNamesTheKeyWhenUnreadable()
    {
        var folder = Path.Combine(Path.GetTempPath(), "selftaught-sim-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var good = Path.Combine(folder, "key.jsonl");
            File.WriteAllLines(good,
            [
                JsonSerializer.Serialize(new { question = "Janet has 3 eggs. How many?", answer = "She has 3.\n#### 3" }),
                JsonSerializer.Serialize(new { question = "What is 1,000 + 24?", answer = "1000 + 24 = 1024\n#### 1,024" }),
            ]);
            var bad = Path.Combine(folder, "bad.jsonl");
            File.WriteAllText(bad, "{\"question\": \"no answer marker\", \"answer\": \"42\"}\n");

            var options = SimOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["SimBackend:MathAnswerKeyFile"] = good,
                ["SimBackend:MathAccuracy"] = "0.25",
            }).Build().GetSection("SimBackend"));
            var error = Assert.Throws<ArgumentException>(() => new SimOptions { MathAnswerKeyFile = bad });

            Assert.Equal(0.25, options.MathAccuracy);
            Assert.Equal("3", options.MathAnswerKey["Janet has 3 eggs. How many?"]);
            Assert.Equal("1,024", options.MathAnswerKey["What is 1,000 + 24?"]);
            Assert.Equal(2, options.Clone().MathAnswerKey.Count);
            Assert.Contains("SimBackend:MathAnswerKeyFile", error.Message, StringComparison.Ordinal);
            Assert.Contains("line 1", error.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentOutOfRangeException>(() => new SimOptions { MathAccuracy = 1.5 });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
