using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Tests.Prompts;

public class BuiltInTemplatesTests
{
    // The Fig. 8 system prompt as the paper prints it (MT-Bench's, without the tie option, typographic apostrophes and quotes).
    private const string Figure8System =
        "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to the user question displayed below. "
        + "You should choose the assistant that follows the user’s instructions and answers the user’s question better. "
        + "Your evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level of detail of their responses. "
        + "Begin your evaluation by comparing the two responses and provide a short explanation. "
        + "Avoid any position biases and ensure that the order in which the responses were presented does not influence your decision. "
        + "Do not allow the length of the responses to influence your evaluation. Do not favor certain names of the assistants. Be as objective as possible. "
        + "After providing your explanation, output your final verdict by strictly following this format: “[[A]]” if assistant A is better, “[[B]]” if assistant B is better.";

    public static TheoryData<string, string> Sources => new()
    {
        { PromptLibrary.InstructionAnalysis, "Figure 7" },
        { PromptLibrary.PairSynthesis, "Figure 2" },
        { PromptLibrary.JudgePairwise, "Figure 8" },
        { PromptLibrary.WorseResponseRewrite, "Figure 10" },
        { PromptLibrary.ResponseGeneration, "§3.3" },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void Get_LoadsEachBuiltIn_WithItsHeaderNamingThePaperSource(string key, string figure)
    {
        var prompt = PromptLibrary.Get(key);

        Assert.Equal(key, prompt.Key);
        Assert.False(string.IsNullOrWhiteSpace(prompt.Name));
        Assert.Contains("Self-Taught Evaluators", prompt.Source);
        Assert.Contains("2408.02666", prompt.Source);
        Assert.Contains(figure, prompt.Source);
        Assert.DoesNotContain("# key:", prompt.UserText);
        Assert.Equal(64, prompt.ContentHash.Length);
    }

    [Fact]
    public void BuiltInKeys_AreExactlyTheEmbeddedTemplates()
    {
        Assert.Equal(PromptLibrary.BuiltInKeys.Order(), PromptLibrary.All().Select(p => p.Key).Order());
        Assert.Equal(5, PromptLibrary.BuiltInKeys.Distinct().Count());
    }

    public static TheoryData<string, string[]> Placeholders => new()
    {
        { PromptLibrary.InstructionAnalysis, ["instruction"] },
        { PromptLibrary.ResponseGeneration, ["instruction"] },
        { PromptLibrary.PairSynthesis, ["Instruction", "Baseline Response"] },
        { PromptLibrary.WorseResponseRewrite, ["Instruction", "Baseline Response"] },
        { PromptLibrary.JudgePairwise, ["instruction", "response A", "response B"] },
    };

    [Theory]
    [MemberData(nameof(Placeholders))]
    public void Placeholders_AreThoseThePaperPrints(string key, string[] expected)
    {
        Assert.Equal(expected, PromptLibrary.Get(key).Placeholders);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Render_FillsEveryPlaceholder_WithTheValuesBuiltForTheTemplate_LeavingNoneUnrendered(string key, string figure)
    {
        _ = figure;
        var prompt = PromptLibrary.Get(key);
        var values = ValuesFor(key);

        var system = prompt.SystemText is null ? null : PromptText.Render(prompt.SystemText, values);
        var user = PromptText.Render(prompt.UserText, values);

        Assert.Equal(prompt.Placeholders.Order(), values.Keys.Order());
        Assert.All(values.Values, v => Assert.Contains(v, user));
        Assert.Empty(PromptText.FindPlaceholders(user));
        Assert.Empty(PromptText.FindPlaceholders(system ?? ""));
        Assert.All(prompt.Placeholders, name => Assert.DoesNotContain("{" + name + "}", user + system));
    }

    [Fact]
    public void Render_Throws_WhenTheJudgeTemplateMissesAResponse()
    {
        var judge = PromptLibrary.Get(PromptLibrary.JudgePairwise);

        var ex = Assert.Throws<ArgumentException>(() => PromptText.Render(judge.UserText, PromptValues.InstructionAnalysis("x")));

        Assert.Contains("{response A}", ex.Message);
    }

    [Fact]
    public void PairSynthesis_IsFigure2Verbatim_WithThePapersTypographicApostrophe()
    {
        var prompt = PromptLibrary.Get(PromptLibrary.PairSynthesis);

        Assert.Null(prompt.SystemText);
        Assert.StartsWith("Below is a conversation between an user and an AI Assistant.\n\n{Instruction}\n\nThe start of Assistant’s Answer\n{Baseline Response}\nThe end of Assistant’s Answer\n", prompt.UserText);
        Assert.Contains("Please first generate a modified instruction that is highly relevant but not semantically identical to the instruction above from the user. "
            + "Then write a high-quality answer which is a good response to the modified instruction but not a good response to the original user question. "
            + "IMPORTANT: Please strictly follow the following format:", prompt.UserText);
        Assert.EndsWith("User Question Modified\n<provide a modified instruction here>\n\nThe start of Assistant’s answer to the modified instruction\n"
            + "<provide a high-quality response to the modified instruction>\nThe end of Assistant’s answer to the modified instruction", prompt.UserText);
    }

    [Fact]
    public void JudgePairwise_IsFigure8_SystemPromptWithoutTie_AndSingleTurnUserTemplate()
    {
        var prompt = PromptLibrary.Get(PromptLibrary.JudgePairwise);

        Assert.Equal(Figure8System, prompt.SystemText);
        Assert.DoesNotContain("[[C]]", prompt.SystemText + prompt.UserText);
        Assert.DoesNotContain("tie", prompt.SystemText + prompt.UserText, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("[[User Question]]\n{instruction}\n\n[The Start of Assistant A’s Answer]\n{response A}\n[The End of Assistant A’s Answer]\n\n"
            + "[The Start of Assistant B’s Answer]\n{response B}\n[The End of Assistant B’s Answer]", prompt.UserText);
    }

    [Fact]
    public void WorseResponseRewrite_IsFigure10Verbatim()
    {
        var prompt = PromptLibrary.Get(PromptLibrary.WorseResponseRewrite);

        Assert.Null(prompt.SystemText);
        Assert.StartsWith("Below is a conversation between an user and an AI Assistant.\n\n[User Question]\n{Instruction}\n\n[The start of Assistant’s Answer]\n{Baseline Response}\n[The end of Assistant’s Answer]\n\n"
            + "Please rewrite the Assistant’s Answer to make it worse. ", prompt.UserText);
        Assert.Contains("closely resemble the original answer but is worse in terms of one or multiple of the following aspects: helpfulness, correctness, coherence, verbosity.", prompt.UserText);
        Assert.EndsWith("more verbose, etc.\n[The start of a rewritten worse answer]\n<provide a worse answer here>\n[The end of a rewritten worse answer]", prompt.UserText);
    }

    [Fact]
    public void ResponseGeneration_IsTheInstructionAlone()
    {
        var prompt = PromptLibrary.Get(PromptLibrary.ResponseGeneration);

        Assert.Null(prompt.SystemText);
        Assert.Equal("{instruction}", prompt.UserText);
        Assert.Equal("Write a haiku about {rain}.", PromptText.Render(prompt.UserText, PromptValues.ResponseGeneration("Write a haiku about {rain}.")));
    }

    [Theory]
    [InlineData(PromptLibrary.PairSynthesis)]
    [InlineData(PromptLibrary.JudgePairwise)]
    [InlineData(PromptLibrary.WorseResponseRewrite)]
    public void PaperTemplates_KeepTheTypographicApostrophe_AndNoStraightOne(string key)
    {
        var prompt = PromptLibrary.Get(key);
        var text = prompt.SystemText + prompt.UserText;

        Assert.Contains("’", text);
        Assert.DoesNotContain("'", text);
    }

    [Fact]
    public void PairSynthesisTemplate_CarriesTheMarkersItsParserLooksFor()
    {
        // The template's format block is the three markers around placeholders: the parser must find all three markers
        // there (not "missing marker") and refuse the placeholders.
        var result = PairSynthesisParser.Parse(PromptLibrary.Get(PromptLibrary.PairSynthesis).UserText);

        Assert.False(result.Ok);
        Assert.Contains("placeholder", result.Error);
    }

    [Fact]
    public void WorseRewriteTemplate_CarriesTheMarkersItsParserLooksFor()
    {
        var result = WorseRewriteParser.Parse(PromptLibrary.Get(PromptLibrary.WorseResponseRewrite).UserText);

        Assert.False(result.Ok);
        Assert.Contains("placeholder", result.Error);
    }

    [Fact]
    public void JudgeTemplate_RestatedByAJudge_IsInvalidWhenStrict()
    {
        // A judge that copies the format line names both verdicts: strict parsing must not read it as a verdict.
        Assert.False(VerdictParser.ParseStrict(PromptLibrary.Get(PromptLibrary.JudgePairwise).SystemText).Ok);
    }

    private static IReadOnlyDictionary<string, string> ValuesFor(string key) => key switch
    {
        PromptLibrary.InstructionAnalysis => PromptValues.InstructionAnalysis("INSTRUCTION-Ω"),
        PromptLibrary.ResponseGeneration => PromptValues.ResponseGeneration("INSTRUCTION-Ω"),
        PromptLibrary.PairSynthesis => PromptValues.PairSynthesis("INSTRUCTION-Ω", "BASELINE-é"),
        PromptLibrary.WorseResponseRewrite => PromptValues.WorseResponseRewrite("INSTRUCTION-Ω", "BASELINE-é"),
        PromptLibrary.JudgePairwise => PromptValues.JudgePairwise("INSTRUCTION-Ω", "RESPONSE-A-日本", "RESPONSE-B-😀"),
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "no values for this template"),
    };
}
