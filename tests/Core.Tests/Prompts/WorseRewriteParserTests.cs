using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Tests.Prompts;

public class WorseRewriteParserTests
{
    private const string Worse = "The percentage is maybe 30%, or so.\n\nI am not sure how to compute it.";

    private const string PaperFormat =
        "First, I choose to make the answer incorrect and unhelpful.\n[The start of a rewritten worse answer]\n" + Worse + "\n[The end of a rewritten worse answer]";

    [Fact]
    public void Parse_ReadsTheAnswerBetweenTheFigure10Markers_WithoutTheChosenAspects()
    {
        var result = WorseRewriteParser.Parse(PaperFormat);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(Worse, result.Response);
        Assert.Equal(PaperFormat, result.Raw);
    }

    [Theory]
    [InlineData("The start of a rewritten worse answer\n{y}\nThe end of a rewritten worse answer")]
    [InlineData("[THE START OF A REWRITTEN WORSE ANSWER]\n{y}\n[the end of a rewritten worse answer]")]
    [InlineData("**[The start of a rewritten worse answer]**\n{y}\n**[The end of a rewritten worse answer]**")]
    [InlineData("### The start of a rewritten worse answer:\n{y}\n### The end of a rewritten worse answer")]
    [InlineData("[The   start of a\nrewritten\u00A0worse answer]\r\n\r\n{y}\r\n\r\n[The end of a rewritten worse\tanswer]")]
    [InlineData("Aspects: verbosity. [The start of a rewritten worse answer] {y} [The end of a rewritten worse answer] Done.")]
    public void Parse_AcceptsBracketsCaseWhitespaceAndMarkdownVariants(string template)
    {
        var y = template.Contains("Aspects", StringComparison.Ordinal) ? "One line answer." : Worse;

        var result = WorseRewriteParser.Parse(template.Replace("{y}", y));

        Assert.True(result.Ok, result.Error);
        Assert.Equal(y, result.Response);
    }

    [Fact]
    public void Parse_KeepsTypographicQuotesAndCodeInsideTheAnswer()
    {
        const string answer = "It’s “fine”:\n\n```js\nconsole.log('x')\n```";

        var result = WorseRewriteParser.Parse($"[The start of a rewritten worse answer]\n{answer}\n[The end of a rewritten worse answer]");

        Assert.Equal(answer, result.Response);
    }

    [Fact]
    public void Parse_TakesTheLastPair_AfterAnEchoedPlaceholder()
    {
        var output = "Format: [The start of a rewritten worse answer] <provide a worse answer here> [The end of a rewritten worse answer]\n\n" + PaperFormat;

        Assert.Equal(Worse, WorseRewriteParser.Parse(output).Response);
    }

    [Fact]
    public void Parse_TakesTheLastPair_WhenTheModelGivesTwo()
    {
        var output = PaperFormat.Replace(Worse, "A first attempt.") + "\n\nA worse one:\n" + PaperFormat;

        Assert.Equal(Worse, WorseRewriteParser.Parse(output).Response);
    }

    [Theory]
    [InlineData("[The start of a rewritten worse answer]\n<provide a worse answer here>\n[The end of a rewritten worse answer]", "placeholder")]
    [InlineData("[The start of a rewritten worse answer]\n\n[The end of a rewritten worse answer]", "empty rewritten answer")]
    [InlineData("[The end of a rewritten worse answer]\nanswer\n[The start of a rewritten worse answer]", "out of order")]
    [InlineData("[The start of a rewritten worse answer]\nanswer cut off by max_tokens", "missing marker: 'The end of a rewritten worse answer'")]
    [InlineData("answer\n[The end of a rewritten worse answer]", "missing marker: 'The start of a rewritten worse answer'")]
    [InlineData("Here is a worse answer: 30%.", "missing markers")]
    [InlineData("", "empty output")]
    public void Parse_Fails_WithTheReasonAndTheRawText(string output, string reason)
    {
        var result = WorseRewriteParser.Parse(output);

        Assert.False(result.Ok);
        Assert.Null(result.Response);
        Assert.Contains(reason, result.Error);
        Assert.Equal(output, result.Raw);
    }

    [Fact]
    public void Parse_Fails_OnNull_KeepingAnEmptyRawText()
    {
        var result = WorseRewriteParser.Parse(null);

        Assert.Equal(("empty output", ""), (result.Error, result.Raw));
    }
}
