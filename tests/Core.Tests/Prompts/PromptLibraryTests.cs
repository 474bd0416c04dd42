using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Tests.Prompts;

public class PromptLibraryTests
{
    [Fact]
    public void InstructionAnalysis_IsThePapersFigure7_WithItsSourceNamed()
    {
        var prompt = PromptLibrary.Get(PromptLibrary.InstructionAnalysis);

        Assert.Contains("Figure 7", prompt.Source);
        Assert.Contains("perform three steps of analysis about the instruction", prompt.UserText);
        Assert.Contains("Provide your final response in the following format:", prompt.UserText);
        Assert.Contains("DO NOT provide the actual response.", prompt.UserText);
        Assert.All(InstructionAnalysisParser.Categories, c => Assert.Contains(c, prompt.UserText));
        Assert.Equal(64, prompt.ContentHash.Length);
        Assert.Contains(prompt, PromptLibrary.All());
    }

    [Fact]
    public void Render_FillsPlaceholdersOnce_AndLeavesBracesInValuesAlone()
    {
        var rendered = PromptText.Render("<instruction>\n{instruction}\n</instruction>", new Dictionary<string, string>
        {
            ["instruction"] = "Explain {instruction} and {response A} in JSON: {\"a\": 1}",
        });

        Assert.Equal("<instruction>\nExplain {instruction} and {response A} in JSON: {\"a\": 1}\n</instruction>", rendered);
    }

    [Fact]
    public void Render_Throws_WhenAPlaceholderHasNoValue()
    {
        var ex = Assert.Throws<ArgumentException>(() => PromptText.Render("[Question] {instruction} [A] {response A}",
            new Dictionary<string, string> { ["instruction"] = "x" }));

        Assert.Contains("{response A}", ex.Message);
    }

    [Fact]
    public void Parse_RejectsAFileWithoutItsSource()
    {
        var ex = Assert.Throws<FormatException>(() => PromptLibrary.Parse("# key: x\n# name: y\n---\nbody"));

        Assert.Contains("source", ex.Message);
    }
}
