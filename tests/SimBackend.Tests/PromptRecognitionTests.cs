using Microsoft.Extensions.AI;
using OllamaSharp;
using SelfTaught.SimBackend.Generation;

namespace SelfTaught.SimBackend.Tests;

public sealed class PromptRecognitionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, SimPromptKind> Prompts => new()
    {
        { PaperPrompts.InstructionAnalysis("Write a haiku about rain."), SimPromptKind.InstructionAnalysis },
        { PaperPrompts.PairSynthesis("What is 2+2?", "4."), SimPromptKind.PairSynthesis },
        { PaperPrompts.WorseRewrite("What is 2+2?", "4."), SimPromptKind.WorseRewrite },
        { PaperPrompts.JudgeSystem + "\n" + PaperPrompts.JudgeUser("q", "a", "b"), SimPromptKind.PairwiseJudge },
        { "Please act as a judge of this poetry contest.", SimPromptKind.Plain },
        { "What is the capital of Peru?", SimPromptKind.Plain },
    };

    [Theory]
    [MemberData(nameof(Prompts))]
    public void Classify_RecognizesPaperPrompts_WithTypographicOrAsciiQuotesAndAnyWhitespace(string prompt, SimPromptKind expected)
    {
        var ascii = prompt.Replace('’', '\'').Replace('“', '"').Replace('”', '"');
        var rewrapped = string.Join("\n   ", ascii.Split(' ')); // every space becomes a line break plus indentation
        var upper = prompt.ToUpperInvariant();

        Assert.Equal(expected, SimPrompts.Classify(prompt));
        Assert.Equal(expected, SimPrompts.Classify(ascii));
        Assert.Equal(expected, SimPrompts.Classify(rewrapped));
        Assert.Equal(expected, SimPrompts.Classify(upper));
    }

    [Fact]
    public void Recognize_ExtractsInstructionAndBaseline_FromFigure2AsPrintedWithoutBrackets()
    {
        // Fig. 2 as the paper's text prints it: one line, markers without brackets, typographic apostrophes.
        const string printed = "Below is a conversation between an user and an AI Assistant. How do tides work? The start of Assistant’s Answer "
            + "The Moon pulls the oceans. The end of Assistant’s Answer Please first generate a modified instruction that is highly relevant but not "
            + "semantically identical to the instruction above from the user. Then write a high-quality answer which is a good response to the modified "
            + "instruction but not a good response to the original user question. IMPORTANT: Please strictly follow the following format: User Question "
            + "Modified <provide a modified instruction here> The start of Assistant’s answer to the modified instruction <provide a high-quality response "
            + "to the modified instruction> The end of Assistant’s answer to the modified instruction";

        var prompt = SimPrompts.Recognize([new SimMessage("user", printed)]);

        Assert.Equal(SimPromptKind.PairSynthesis, prompt.Kind);
        Assert.Equal("How do tides work?", prompt.Instruction);
        Assert.Equal("The Moon pulls the oceans.", prompt.BaselineResponse);
        Assert.True(prompt.TypographicApostrophe);
    }

    [Fact]
    public void Recognize_ExtractsJudgeAnswers_WhenMarkersAreRewrapped()
    {
        var user = PaperPrompts.JudgeUser("Which is larger?", "Answer one.", "Answer two.").Replace("Assistant A’s Answer]", "Assistant\n A's  Answer]", StringComparison.Ordinal);

        var prompt = SimPrompts.Recognize([new SimMessage("system", PaperPrompts.JudgeSystem), new SimMessage("user", user)]);

        Assert.Equal(SimPromptKind.PairwiseJudge, prompt.Kind);
        Assert.Equal("Which is larger?", prompt.Instruction);
        Assert.Equal("Answer one.", prompt.AnswerA);
        Assert.Equal("Answer two.", prompt.AnswerB);
    }

    [Fact]
    public async Task InstructionAnalysis_AnswersCategoryComplexityAndLengthLines()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var client = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");

        var coding = await AskAsync(client, PaperPrompts.InstructionAnalysis("Write a python function that sorts a list of numbers."));
        var history = await AskAsync(client, PaperPrompts.InstructionAnalysis("What was the role of trade in the history of Venice?"));

        Assert.StartsWith("(simulated response)", coding, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^Category: Coding$", coding);
        Assert.Matches(@"(?m)^Complexity: ([1-9]|10)$", coding);
        Assert.Matches(@"(?m)^Length: \([a-e]\)$", coding);
        Assert.Matches(@"(?m)^Category: Humanity, History or Social Studies$", history);
    }

    [Fact]
    public async Task PairSynthesis_AnswersWithModifiedInstructionMarkers_EchoingTheApostropheStyle()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var client = new OllamaApiClient(new Uri(sim.BaseUri), "sim-generator");

        var typographic = await AskAsync(client, PaperPrompts.PairSynthesis("How do airplanes fly?", "Wings create lift."));
        var ascii = await AskAsync(client, PaperPrompts.PairSynthesis("How do airplanes fly?", "Wings create lift.").Replace('’', '\''));

        Assert.StartsWith("(simulated response)", typographic, StringComparison.Ordinal);
        Assert.Contains("[User Question Modified]", typographic, StringComparison.Ordinal);
        Assert.Contains("[The start of Assistant’s answer to the modified instruction]", typographic, StringComparison.Ordinal);
        Assert.Contains("[The end of Assistant’s answer to the modified instruction]", typographic, StringComparison.Ordinal);
        Assert.Contains("[The start of Assistant's answer to the modified instruction]", ascii, StringComparison.Ordinal);
        var modified = PaperPrompts.Between(typographic, "User Question Modified", "The start of Assistant's answer to the modified instruction");
        Assert.False(string.IsNullOrWhiteSpace(modified));
    }

    [Fact]
    public async Task PairSynthesis_DropsBracketsOrMarkers_AtConfiguredRates()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { UnbracketedMarkerRate = 1 }, Ct);
        using var client = new OllamaApiClient(new Uri(sim.BaseUri), "sim-generator");
        var prompt = PaperPrompts.PairSynthesis("How do airplanes fly?", "Wings create lift.");

        var unbracketed = await AskAsync(client, prompt);
        sim.Options.MalformedRate = 1;
        var malformed = await AskAsync(client, prompt);

        Assert.Contains("\nUser Question Modified\n", unbracketed, StringComparison.Ordinal);
        Assert.DoesNotContain("[User Question Modified]", unbracketed, StringComparison.Ordinal);
        Assert.NotNull(PaperPrompts.Between(unbracketed, "The start of Assistant's answer to the modified instruction", "The end of Assistant's answer to the modified instruction"));
        Assert.DoesNotContain("User Question Modified", malformed, StringComparison.Ordinal);
        Assert.DoesNotContain("answer to the modified instruction", malformed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorseRewrite_AnswersBetweenRewrittenWorseAnswerMarkers()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var client = new OllamaApiClient(new Uri(sim.BaseUri), "sim-generator");

        var text = await AskAsync(client, PaperPrompts.WorseRewrite("How do airplanes fly?", "Wings create lift. Engines create thrust. Pilots steer with control surfaces."));

        Assert.StartsWith("(simulated response)", text, StringComparison.Ordinal);
        var worse = PaperPrompts.Between(text, "[The start of a rewritten worse answer]".Trim('[', ']'), "The end of a rewritten worse answer");
        Assert.False(string.IsNullOrWhiteSpace(worse));
        Assert.Contains("[The start of a rewritten worse answer]", text, StringComparison.Ordinal);
        Assert.Contains("[The end of a rewritten worse answer]", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryKindOfCompletion_StatesItIsSimulated()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MalformedRate = 0.5 }, Ct);
        using var client = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");
        string[] prompts =
        [
            "Tell me a joke.",
            PaperPrompts.InstructionAnalysis("Tell me a joke."),
            PaperPrompts.PairSynthesis("Tell me a joke.", "Why did the chicken cross the road?"),
            PaperPrompts.WorseRewrite("Tell me a joke.", "Why did the chicken cross the road?"),
            PaperPrompts.JudgeSystem + "\n" + PaperPrompts.JudgeUser("Tell me a joke.", "one", "two"),
        ];

        foreach (var prompt in prompts)
        {
            for (var seed = 0; seed < 4; seed++)
            {
                var text = (await ((IChatClient)client).GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], new ChatOptions { Seed = seed }, Ct)).Text;
                Assert.StartsWith("(simulated response)", text, StringComparison.Ordinal);
            }
        }
    }

    private static async Task<string> AskAsync(IChatClient client, string prompt) =>
        (await client.GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], new ChatOptions { Seed = 1 }, Ct)).Text;
}
