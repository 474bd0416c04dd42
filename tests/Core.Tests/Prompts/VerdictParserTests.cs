using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Tests.Prompts;

/// <summary>One test per verdict rule of DESIGN.md §1 (strict: step 3; lenient: step 6).</summary>
public class VerdictParserTests
{
    // The end of the paper's Fig. 9 judgment.
    private const string Figure9Ending = "**Final Verdict:**\nBased on the evaluation, I conclude that **[[A]]** is the better response. Although both responses are accurate and clear, "
        + "Assistant A demonstrates a slightly better understanding of the context and uses the more specific term “percentage difference\", which is more applicable to this scenario.";

    // ---- strict: "the set of verdict tokens found is exactly {[[A]]} or {[[B]]} (repeats allowed) → that verdict" ----

    [Theory]
    [InlineData("Assistant A explains the steps. Final verdict: [[A]]", Verdict.A)]
    [InlineData("Assistant B is more accurate.\n\n[[B]]", Verdict.B)]
    [InlineData("[[B]]", Verdict.B)]
    public void ParseStrict_ReturnsTheVerdict_WhenOnlyOneTokenIsFound(string output, Verdict expected)
    {
        var result = VerdictParser.ParseStrict(output);

        Assert.Equal(expected, result.Verdict);
        Assert.True(result.Ok);
        Assert.Null(result.Error);
        Assert.Equal(VerdictParseMode.Strict, result.Mode);
    }

    [Theory]
    [InlineData("My verdict is [[A]]. To repeat: [[A]]", Verdict.A, 2)]
    [InlineData("[[B]][[B]][[B]]", Verdict.B, 3)]
    public void ParseStrict_AllowsRepeatsOfTheSameToken(string output, Verdict expected, int count)
    {
        var result = VerdictParser.ParseStrict(output);

        Assert.Equal(expected, result.Verdict);
        Assert.Equal(count, expected == Verdict.A ? result.CountA : result.CountB);
    }

    [Fact]
    public void ParseStrict_ReadsThePapersFigure9Judgment_AsA()
    {
        Assert.Equal(Verdict.A, VerdictParser.ParseStrict(Figure9Ending).Verdict);
    }

    [Theory]
    [InlineData("**[[A]]**")]
    [InlineData("`[[A]]`")]
    [InlineData("\"[[A]]\"")]
    [InlineData("“[[A]]”")]
    [InlineData("[[[A]]]")]
    [InlineData("Verdict:[[A]].")]
    [InlineData("# [[A]]")]
    public void ParseStrict_FindsTheTokenInsideMarkdownAndPunctuation(string output)
    {
        Assert.Equal(Verdict.A, VerdictParser.ParseStrict(output).Verdict);
    }

    // ---- strict: "both, neither, or any [[C]] → invalid" ----

    [Theory]
    [InlineData("[[A]] is tempting, but the final verdict is [[B]]")]
    [InlineData("Final verdict: [[B]]. On reflection, however: [[A]]")]
    [InlineData("[[A]][[B]]")]
    public void ParseStrict_IsInvalid_WhenBothAAndBAreFound_WhereverTheFinalVerdictStands(string output)
    {
        var result = VerdictParser.ParseStrict(output);

        Assert.Equal(Verdict.Invalid, result.Verdict);
        Assert.Equal("both [[A]] and [[B]]", result.Error);
        Assert.True(result.Conflicting);
    }

    [Fact]
    public void ParseStrict_IsInvalid_WhenTheJudgeRestatesTheFormatLine()
    {
        var output = "I must output “[[A]]” if assistant A is better, “[[B]]” if assistant B is better.\n\nA is clearer. [[A]]";

        Assert.Equal(Verdict.Invalid, VerdictParser.ParseStrict(output).Verdict);
    }

    [Theory]
    [InlineData("Both answers have merit, and I cannot decide between them.")]
    [InlineData("Assistant A is better.")]
    [InlineData("Final verdict: A")]
    [InlineData("[A]")]
    [InlineData("[[a]]")]
    [InlineData("[[ A ]]")]
    [InlineData("[[A]")]
    [InlineData("[A]]")]
    [InlineData("[[A ]]")]
    [InlineData("［［Ａ］］")]
    [InlineData("[[D]]")]
    [InlineData("[[User Question]]")]
    [InlineData("[[AB]]")]
    public void ParseStrict_IsInvalid_WhenNeitherTokenIsFound(string output)
    {
        var result = VerdictParser.ParseStrict(output);

        Assert.Equal(Verdict.Invalid, result.Verdict);
        Assert.Equal("no verdict [[A]] or [[B]]", result.Error);
        Assert.Equal((0, 0, 0), (result.CountA, result.CountB, result.CountTie));
    }

    [Theory]
    [InlineData("[[C]]", "tie token [[C]] (the prompt offers no tie)")]
    [InlineData("A is good. [[A]]\nBut really a tie: [[C]]", "tie token [[C]] besides [[A]] (the prompt offers no tie)")]
    [InlineData("[[C]] [[B]] [[B]]", "tie token [[C]] besides [[B]] (the prompt offers no tie)")]
    [InlineData("[[A]] [[B]] [[C]]", "tie token [[C]] besides [[A]] and [[B]] (the prompt offers no tie)")]
    public void ParseStrict_IsInvalid_WhenAnyTieTokenIsFound(string output, string error)
    {
        var result = VerdictParser.ParseStrict(output);

        Assert.Equal(Verdict.Invalid, result.Verdict);
        Assert.Equal(error, result.Error);
        Assert.True(result.CountTie > 0);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  \n ")]
    public void ParseStrict_IsInvalid_OnEmptyOutput_AndKeepsTheRawText(string? output)
    {
        var result = VerdictParser.ParseStrict(output);

        Assert.Equal((Verdict.Invalid, "empty output", output ?? ""), (result.Verdict, result.Error, result.Raw));
    }

    [Fact]
    public void ParseStrict_KeepsTheRawTextAndTheCounts_OnFailure()
    {
        const string output = "[[A]] then [[B]] then [[B]] and [[C]]";

        var result = VerdictParser.ParseStrict(output);

        Assert.Equal((output, 1, 2, 1), (result.Raw, result.CountA, result.CountB, result.CountTie));
    }

    // ---- lenient: "[[A]] checked first, then [[B]], else error" ----

    [Theory]
    [InlineData("[[A]] is tempting, but the final verdict is [[B]]")]
    [InlineData("Final verdict: [[B]]. On reflection, however: [[A]]")]
    [InlineData("[[A]] [[B]] [[C]]")]
    [InlineData("I must output “[[A]]” if assistant A is better, “[[B]]” if assistant B is better. [[B]]")]
    public void ParseLenient_ChecksAFirst_SoBothTokensReadAsA(string output)
    {
        var result = VerdictParser.ParseLenient(output);

        Assert.Equal(Verdict.A, result.Verdict);
        Assert.Null(result.Error);
        Assert.True(result.Conflicting);
        Assert.Equal(VerdictParseMode.Lenient, result.Mode);
    }

    [Theory]
    [InlineData("Assistant B wins. [[B]]")]
    [InlineData("[[C]] would be a tie, but [[B]]")]
    [InlineData("[[B]] [[B]]")]
    public void ParseLenient_ReturnsB_WhenBIsFoundWithoutA_EvenBesidesATieToken(string output)
    {
        var result = VerdictParser.ParseLenient(output);

        Assert.Equal(Verdict.B, result.Verdict);
        Assert.False(result.Conflicting);
    }

    [Theory]
    [InlineData("[[C]]", "only the tie token [[C]]")]
    [InlineData("It is a tie.", "no verdict [[A]] or [[B]]")]
    [InlineData("[[a]] [[ B ]] [A]", "no verdict [[A]] or [[B]]")]
    [InlineData("", "empty output")]
    public void ParseLenient_IsAnError_WhenNeitherAIsNorBIsFound_AndATieIsNotAVerdict(string output, string error)
    {
        var result = VerdictParser.ParseLenient(output);

        Assert.Equal((Verdict.Invalid, error), (result.Verdict, result.Error));
    }

    [Theory]
    [InlineData("x [[A]]", Verdict.A, Verdict.A)]
    [InlineData("[[B]] and [[A]]", Verdict.Invalid, Verdict.A)]
    [InlineData("[[B]] [[C]]", Verdict.Invalid, Verdict.B)]
    [InlineData("nothing", Verdict.Invalid, Verdict.Invalid)]
    public void Parse_DispatchesOnTheMode(string output, Verdict strict, Verdict lenient)
    {
        Assert.Equal(strict, VerdictParser.Parse(output, VerdictParseMode.Strict).Verdict);
        Assert.Equal(lenient, VerdictParser.Parse(output, VerdictParseMode.Lenient).Verdict);
    }
}
