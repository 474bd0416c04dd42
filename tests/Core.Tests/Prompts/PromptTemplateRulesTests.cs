using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Tests.Prompts;

/// <summary>The rules an edited template must pass before it becomes a new version (pure; no database).</summary>
public class PromptTemplateRulesTests
{
    private static TemplateCheck CheckJudge(string? name, string? system, string? user) =>
        PromptTemplateRules.Check(PromptLibrary.JudgePairwise, PromptTemplateRules.RequiredPlaceholders(PromptLibrary.JudgePairwise), new TemplateEdit(name, system, user));

    [Theory]
    [InlineData(PromptLibrary.InstructionAnalysis, new[] { "instruction" })]
    [InlineData(PromptLibrary.ResponseGeneration, new[] { "instruction" })]
    [InlineData(PromptLibrary.PairSynthesis, new[] { "Instruction", "Baseline Response" })]
    [InlineData(PromptLibrary.WorseResponseRewrite, new[] { "Instruction", "Baseline Response" })]
    [InlineData(PromptLibrary.JudgePairwise, new[] { "instruction", "response A", "response B" })]
    public void Check_AcceptsEachBuiltInUnchanged_WithTheirPlaceholdersRequiredAndNoWarning(string key, string[] placeholders)
    {
        var text = PromptLibrary.Get(key);

        var check = PromptTemplateRules.Check(key, PromptTemplateRules.RequiredPlaceholders(key), new TemplateEdit("copy", text.SystemText, text.UserText));

        Assert.True(check.Ok, check.Message);
        Assert.Equal(placeholders, check.Required);
        Assert.Empty(check.Warnings);
        Assert.Empty(check.Missing);
        Assert.Empty(check.Unknown);
    }

    [Fact]
    public void Check_NamesTheMissingPlaceholder_WhenTheJudgeTextDropsResponseB()
    {
        var user = PromptLibrary.Get(PromptLibrary.JudgePairwise).UserText.Replace("{response B}", "(second answer)", StringComparison.Ordinal);

        var check = CheckJudge("no B", null, user);

        Assert.False(check.Ok);
        Assert.Equal(["response B"], check.Missing);
        var message = Assert.Single(check.Errors["userText"]);
        Assert.Contains("userText lacks {response B}", message);
        Assert.Contains("{instruction}, {response A}, {response B}", message);
    }

    [Fact]
    public void Check_NamesTheUnknownPlaceholder_WhenTheCaseIsWrong()
    {
        var user = PromptLibrary.Get(PromptLibrary.JudgePairwise).UserText.Replace("{instruction}", "{Instruction}", StringComparison.Ordinal);

        var check = CheckJudge("case", null, user);

        Assert.Equal(["instruction"], check.Missing);
        Assert.Equal(["Instruction"], check.Unknown);
        Assert.Contains(check.Errors["userText"], m => m.Contains("userText has {Instruction}, which the judge-pairwise stage does not fill", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_RefusesEmptyNameAndText_AndPlaceholdersInTheSystemText()
    {
        var check = CheckJudge("  ", "Judge {instruction} fairly.", " \n ");

        Assert.Equal(["name", "systemText", "userText"], check.Errors.Keys.Order());
        Assert.Contains("name is required", check.Errors["name"][0]);
        Assert.Contains("system message is sent as written", check.Errors["systemText"][0]);
        Assert.Contains("userText is required", check.Errors["userText"][0]);
        Assert.StartsWith("name is required", check.Message);
    }

    [Fact]
    public void Check_RefusesHugeTextAndLongName()
    {
        var user = "{instruction} {response A} {response B} " + new string('x', PromptTemplateRules.MaxTextLength);

        var check = CheckJudge(new string('n', PromptTemplateRules.MaxNameLength + 1), null, user);

        Assert.Contains("at most 200 characters", check.Errors["name"][0]);
        Assert.Contains("userText must be at most 100,000 characters", check.Errors["userText"][0]);
    }

    [Fact]
    public void Check_WarnsButAccepts_WhenTheJudgeNoLongerAsksForTheVerdictTokens()
    {
        var text = PromptLibrary.Get(PromptLibrary.JudgePairwise);
        var system = text.SystemText!.Replace("“[[A]]” if assistant A is better, “[[B]]” if assistant B is better", "say which is better", StringComparison.Ordinal);

        var check = CheckJudge("no tokens", system, text.UserText);

        Assert.True(check.Ok);
        var warning = Assert.Single(check.Warnings);
        Assert.Contains("“[[A]]”, “[[B]]”", warning);
    }

    [Fact]
    public void Check_FindsSynthesisMarkers_WithTypographicOrPlainApostrophes()
    {
        var text = PromptLibrary.Get(PromptLibrary.PairSynthesis);
        var plain = text.UserText.Replace('\u2019', '\'');
        var withoutEnd = plain.Replace("The end of Assistant's answer to the modified instruction", "Done", StringComparison.Ordinal);
        var required = PromptTemplateRules.RequiredPlaceholders(PromptLibrary.PairSynthesis);

        Assert.Empty(PromptTemplateRules.Check(PromptLibrary.PairSynthesis, required, new TemplateEdit("plain", null, plain)).Warnings);
        Assert.Contains(PairSynthesisParser.ResponseEndMarker,
            Assert.Single(PromptTemplateRules.Check(PromptLibrary.PairSynthesis, required, new TemplateEdit("no end", null, withoutEnd)).Warnings));
    }

    [Fact]
    public void ContentHash_IsTheBuiltInsHash_AndIgnoresLineEndingsAndABlankSystemText()
    {
        var judge = PromptLibrary.Get(PromptLibrary.JudgePairwise);
        var response = PromptLibrary.Get(PromptLibrary.ResponseGeneration);

        Assert.Equal(judge.ContentHash, PromptTemplateRules.ContentHash(judge.SystemText!.Replace("\n", "\r\n"), judge.UserText.Replace("\n", "\r\n")));
        Assert.Equal(response.ContentHash, PromptTemplateRules.ContentHash("  \n", response.UserText));
        Assert.NotEqual(judge.ContentHash, PromptTemplateRules.ContentHash(judge.SystemText, judge.UserText + " "));
    }
}
