using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Tests.Prompts;

public class PairSynthesisParserTests
{
    private const string X = "How do I compute the percentage increase from 12000 to 16200?";
    private const string Y = "The percentage increase is 35%.\n\nSubtract, divide by the original value, multiply by 100.";

    // Exactly the format of Fig. 2, with the paper's typographic apostrophe.
    private const string PaperFormat =
        "User Question Modified\n" + X + "\n\nThe start of Assistant’s answer to the modified instruction\n" + Y + "\nThe end of Assistant’s answer to the modified instruction";

    [Fact]
    public void Parse_ReadsModifiedInstructionAndAnswer_BetweenTheFigure2Markers()
    {
        var result = PairSynthesisParser.Parse(PaperFormat);

        Assert.True(result.Ok, result.Error);
        Assert.Equal((X, Y), (result.ModifiedInstruction, result.Response));
        Assert.Equal(PaperFormat, result.Raw);
    }

    [Theory]
    [InlineData("[User Question Modified]\n{x}\n\n[The start of Assistant's answer to the modified instruction]\n{y}\n[The end of Assistant's answer to the modified instruction]")]
    [InlineData("[ User Question Modified ]\n{x}\n[ The start of Assistant's answer to the modified instruction ]\n{y}\n[ The end of Assistant's answer to the modified instruction ]")]
    [InlineData("[User Question Modified]\n{x}\nThe start of Assistant's answer to the modified instruction\n{y}\n[The end of Assistant's answer to the modified instruction]")]
    public void Parse_AcceptsMarkers_WithOrWithoutSquareBrackets(string template)
    {
        AssertParses(template);
    }

    [Theory]
    [InlineData("’")] // U+2019, as the paper prints it
    [InlineData("'")]
    [InlineData("‘")]
    [InlineData("ʼ")]
    [InlineData("′")]
    [InlineData("")]
    public void Parse_NormalizesTheApostropheOfAssistants(string apostrophe)
    {
        AssertParses(PaperFormat.Replace(X, "{x}").Replace(Y, "{y}").Replace("’", apostrophe));
    }

    [Theory]
    [InlineData("USER QUESTION MODIFIED\n{x}\nTHE START OF ASSISTANT'S ANSWER TO THE MODIFIED INSTRUCTION\n{y}\nTHE END OF ASSISTANT'S ANSWER TO THE MODIFIED INSTRUCTION")]
    [InlineData("user question modified\n{x}\nthe start of assistant's answer to the modified instruction\n{y}\nthe end of assistant's answer to the modified instruction")]
    [InlineData("User Question Modified\n{x}\nThe Start Of Assistant's Answer To The Modified Instruction\n{y}\nThe End Of Assistant's Answer To The Modified Instruction")]
    public void Parse_IgnoresCase(string template)
    {
        AssertParses(template);
    }

    [Theory]
    [InlineData("User   Question\tModified\n\n\n{x}\n\n\n   The  start of\nAssistant's answer   to the\r\nmodified instruction   \n\n{y}\n\n  The end of Assistant's answer to the modified instruction  ")]
    [InlineData("User\u00A0Question\u00A0Modified\r\n{x}\r\nThe\u2003start of Assistant's answer to the modified\u200Binstruction\r\n{y}\r\nThe end of Assistant's answer to the modified instruction\r\n")]
    [InlineData("\n\n   User Question Modified   \n   {x}   \n   The start of Assistant's answer to the modified instruction   \n   {y}   \n   The end of Assistant's answer to the modified instruction   \n\n")]
    public void Parse_ToleratesExtraWhitespace_InsideAndAroundMarkers(string template)
    {
        AssertParses(template);
    }

    [Theory]
    [InlineData("**User Question Modified:**\n{x}\n\n**The start of Assistant's answer to the modified instruction:**\n{y}\n\n**The end of Assistant's answer to the modified instruction**")]
    [InlineData("## User Question Modified\n{x}\n\n### The start of Assistant's answer to the modified instruction\n{y}\n### The end of Assistant's answer to the modified instruction")]
    [InlineData("**[User Question Modified]**\n{x}\n**[The start of Assistant's answer to the modified instruction]**\n{y}\n**[The end of Assistant's answer to the modified instruction]**")]
    [InlineData("> User Question Modified\n{x}\n> The start of Assistant's answer to the modified instruction\n{y}\n> The end of Assistant's answer to the modified instruction")]
    [InlineData("- __User Question Modified__\n{x}\n- *The start of Assistant's answer to the modified instruction*\n{y}\n- *The end of Assistant's answer to the modified instruction*")]
    [InlineData("`User Question Modified`\n{x}\n`[The start of Assistant's answer to the modified instruction]`\n{y}\n`[The end of Assistant's answer to the modified instruction]`")]
    [InlineData("User Question Modified:\n{x}\n---\nThe start of Assistant's answer to the modified instruction:\n{y}\n\n---\n\nThe end of Assistant's answer to the modified instruction.")]
    public void Parse_StripsMarkdownAroundMarkers(string template)
    {
        AssertParses(template);
    }

    [Theory]
    [InlineData("User Question Modified: {x}\nThe start of Assistant's answer to the modified instruction\n{y}\nThe end of Assistant's answer to the modified instruction")]
    [InlineData("**User Question Modified:** {x}\n[The start of Assistant's answer to the modified instruction] {y}\n[The end of Assistant's answer to the modified instruction]")]
    [InlineData("[User Question Modified] {x} [The start of Assistant's answer to the modified instruction] {y} [The end of Assistant's answer to the modified instruction]")]
    public void Parse_ReadsTextOnTheMarkersOwnLine(string template)
    {
        AssertParses(template, y: "The percentage increase is 35%.");
    }

    [Fact]
    public void Parse_KeepsACodeBlockInTheAnswer()
    {
        const string code = "Here is the script:\n\n```python\nprint(\"hi\")\n```";

        var result = PairSynthesisParser.Parse($"User Question Modified\n{X}\nThe start of Assistant's answer to the modified instruction\n{code}\nThe end of Assistant's answer to the modified instruction");

        Assert.Equal(code, result.Response);
    }

    [Fact]
    public void Parse_KeepsAnAnswerThatIsOneCodeBlock()
    {
        const string code = "```python\nprint(\"hi\")\n```";

        var result = PairSynthesisParser.Parse($"User Question Modified\n{X}\nThe start of Assistant's answer to the modified instruction\n{code}\nThe end of Assistant's answer to the modified instruction");

        Assert.Equal(code, result.Response);
    }

    [Theory]
    [InlineData("User Question Modified\nq\n[The start of Assistant's answer to the modified instruction] ```python\nprint(1)\n```\n[The end of Assistant's answer to the modified instruction]")]
    [InlineData("User Question Modified\nq\n[The start of Assistant's answer to the modified instruction]\n```python\nprint(1)\n```[The end of Assistant's answer to the modified instruction]")]
    public void Parse_KeepsACodeFenceThatTouchesAMarker(string output)
    {
        Assert.Equal("```python\nprint(1)\n```", PairSynthesisParser.Parse(output).Response);
    }

    [Fact]
    public void Parse_DropsFencesTheMarkersCutInHalf_WhenTheWholeFormatIsFenced()
    {
        var fenced = $"```\nUser Question Modified\n```\n{X}\n```\nThe start of Assistant's answer to the modified instruction\n```\n{Y}\n```\nThe end of Assistant's answer to the modified instruction\n```";

        var result = PairSynthesisParser.Parse(fenced);

        Assert.Equal((X, Y), (result.ModifiedInstruction, result.Response));
    }

    [Fact]
    public void Parse_DropsAnOpeningFenceWhoseCloseFollowsTheEndMarker()
    {
        var result = PairSynthesisParser.Parse($"User Question Modified\n{X}\nThe start of Assistant's answer to the modified instruction\n```markdown\n{Y}\nThe end of Assistant's answer to the modified instruction\n```");

        Assert.Equal(Y, result.Response);
    }

    [Fact]
    public void Parse_ReturnsTheTextAsWritten_KeepingTypographicQuotesInside()
    {
        const string x = "What’s the “best” way to say ‘hello’?";
        const string y = "It’s “hi” — naïve, 日本語, 😀.";

        var result = PairSynthesisParser.Parse($"User Question Modified\n{x}\nThe start of Assistant’s answer to the modified instruction\n{y}\nThe end of Assistant’s answer to the modified instruction");

        Assert.Equal((x, y), (result.ModifiedInstruction, result.Response));
    }

    [Fact]
    public void Parse_TakesTheLastRun_WhenTheModelRestatesTheFormatFirst()
    {
        var output = "Sure. The format is:\nUser Question Modified\n<provide a modified instruction here>\nThe start of Assistant's answer to the modified instruction\n"
            + "<provide a high-quality response to the modified instruction>\nThe end of Assistant's answer to the modified instruction\n\nHere it is:\n\n" + PaperFormat;

        var result = PairSynthesisParser.Parse(output);

        Assert.Equal((X, Y), (result.ModifiedInstruction, result.Response));
    }

    [Fact]
    public void Parse_TakesTheLastRun_WhenTheModelGivesTwo()
    {
        var first = PaperFormat.Replace(X, "First question?").Replace(Y, "First answer.");

        var result = PairSynthesisParser.Parse(first + "\n\nActually, a better one:\n\n" + PaperFormat);

        Assert.Equal((X, Y), (result.ModifiedInstruction, result.Response));
    }

    [Fact]
    public void Parse_KeepsAnEarlierRun_WhenTheLastIsOnlyEchoedPlaceholders()
    {
        var output = PaperFormat + "\n\n(I followed the format: User Question Modified\n<provide a modified instruction here>\nThe start of Assistant's answer to the modified instruction\n"
            + "<provide a high-quality response to the modified instruction>\nThe end of Assistant's answer to the modified instruction)";

        var result = PairSynthesisParser.Parse(output);

        Assert.Equal((X, Y), (result.ModifiedInstruction, result.Response));
    }

    [Fact]
    public void Parse_IsNotFooledByThePromptsOwnConversationMarkers()
    {
        // "The start of Assistant’s Answer" (Fig. 2's conversation block) is not the answer-to-the-modified-instruction marker.
        var output = "The start of Assistant’s Answer\nthe baseline\nThe end of Assistant’s Answer\n\n" + PaperFormat;

        var result = PairSynthesisParser.Parse(output);

        Assert.Equal((X, Y), (result.ModifiedInstruction, result.Response));
    }

    [Fact]
    public void Parse_ReadsTheSimulatorsBracketedFormat_AfterAPreamble()
    {
        var output = $"(simulated)\n[User Question Modified]\n{X}\n\n[The start of Assistant’s answer to the modified instruction]\n{Y}\n[The end of Assistant’s answer to the modified instruction]";

        AssertParsesTo(output, X, Y);
    }

    [Theory]
    [InlineData("User Question Modified", "'User Question Modified'")]
    [InlineData("The start of Assistant’s answer to the modified instruction", "'The start of Assistant's answer to the modified instruction'")]
    [InlineData("The end of Assistant’s answer to the modified instruction", "'The end of Assistant's answer to the modified instruction'")]
    public void Parse_Fails_NamingTheMissingMarker_AndKeepsTheRawText(string marker, string named)
    {
        var output = PaperFormat.Replace(marker, "", StringComparison.Ordinal);

        var result = PairSynthesisParser.Parse(output);

        Assert.False(result.Ok);
        Assert.Null(result.ModifiedInstruction);
        Assert.Null(result.Response);
        Assert.Equal(output, result.Raw);
        Assert.Contains("missing marker", result.Error);
        Assert.Contains(named, result.Error);
    }

    [Fact]
    public void Parse_Fails_WhenTheOutputIsCutBeforeTheEndMarker()
    {
        var truncated = PaperFormat[..PaperFormat.IndexOf("The end of", StringComparison.Ordinal)];

        var result = PairSynthesisParser.Parse(truncated);

        Assert.False(result.Ok);
        Assert.Contains("The end of Assistant's answer", result.Error);
    }

    [Fact]
    public void Parse_Fails_WhenNoMarkerIsThere()
    {
        var result = PairSynthesisParser.Parse("Here is a modified question: how many legs has a spider?\n\nEight.");

        Assert.False(result.Ok);
        Assert.Contains("missing markers", result.Error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" \n\t ")]
    public void Parse_Fails_OnEmptyOutput(string? output)
    {
        var result = PairSynthesisParser.Parse(output);

        Assert.False(result.Ok);
        Assert.Equal("empty output", result.Error);
        Assert.Equal(output ?? "", result.Raw);
    }

    [Theory]
    [InlineData("User Question Modified\n\nThe start of Assistant's answer to the modified instruction\nanswer\nThe end of Assistant's answer to the modified instruction", "empty modified instruction")]
    [InlineData("User Question Modified\nquestion\nThe start of Assistant's answer to the modified instruction\n  \n---\nThe end of Assistant's answer to the modified instruction", "empty answer to the modified instruction")]
    [InlineData("User Question Modified\n<provide a modified instruction here>\nThe start of Assistant's answer to the modified instruction\nanswer\nThe end of Assistant's answer to the modified instruction", "placeholder instead of a modified instruction")]
    public void Parse_Fails_WhenAPartIsEmptyOrAPlaceholder(string output, string error)
    {
        var result = PairSynthesisParser.Parse(output);

        Assert.False(result.Ok);
        Assert.Contains(error, result.Error);
    }

    [Theory]
    [InlineData("The start of Assistant's answer to the modified instruction\nanswer\nThe end of Assistant's answer to the modified instruction\nUser Question Modified\nquestion")]
    [InlineData("User Question Modified\nquestion\nThe end of Assistant's answer to the modified instruction\nanswer\nThe start of Assistant's answer to the modified instruction")]
    [InlineData("User Question Modified\nq\nThe start of Assistant's answer to the modified instruction\na\nThe start of Assistant's answer to the modified instruction\nb\nThe end of Assistant's answer to the modified instruction")]
    public void Parse_Fails_WhenTheMarkersAreNotInOrder(string output)
    {
        var result = PairSynthesisParser.Parse(output);

        Assert.False(result.Ok);
        Assert.Contains("out of order", result.Error);
    }

    [Theory]
    [InlineData("SuperUser Question Modified")]
    [InlineData("User Question Modified2")]
    [InlineData("ÜberUser Question Modified")]
    public void Parse_DoesNotMatchAMarkerGluedIntoAWord(string glued)
    {
        var result = PairSynthesisParser.Parse(PaperFormat.Replace("User Question Modified", glued));

        Assert.Contains("missing marker: 'User Question Modified'", result.Error);
    }

    private static void AssertParses(string template, string x = X, string y = Y) =>
        AssertParsesTo(template.Replace("{x}", x).Replace("{y}", y), x, y);

    private static void AssertParsesTo(string output, string x, string y)
    {
        var result = PairSynthesisParser.Parse(output);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(x, result.ModifiedInstruction);
        Assert.Equal(y, result.Response);
        Assert.Null(result.Error);
        Assert.Equal(output, result.Raw);
    }
}
