using SelfTaught.Core.Pairs;

namespace SelfTaught.Core.Tests.Pairs;

public class MathGradingTests
{
    [Theory]
    [InlineData("Janet sells 9 eggs at $2 each.\n#### 18", "18")]
    [InlineData("#### $1,234.50", "1234.5")]
    [InlineData("The total is 18.00 dollars.\n####18.0", "18")]
    [InlineData("First guess #### 12, then corrected: 3 + 4 = 7\n#### 7", "7")]       // the last marker counts
    [InlineData("She pays 5 + 6 = 11 dollars, so the answer is 11.", "11")]            // no marker: the last number
    [InlineData("After the marker there is no number.\n#### unknown\nBut 2 + 2 = 4", "4")]
    [InlineData("The temperature drops to -5 degrees.", "-5")]
    [InlineData("Answer: 0.50", "0.5")]
    [InlineData("#### 007", "7")]
    [InlineData("#### -0", "0")]
    [InlineData("She had 1,000,000 dollars", "1000000")]
    public void Extract_TakesTheNumberAfterTheLastMarker_ElseTheLastNumber_Normalized(string solution, string expected) =>
        Assert.Equal(expected, MathAnswers.Extract(solution));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("I cannot solve this; the answer is eighteen.")]
    [InlineData("#### ")]
    public void Extract_ReturnsNull_WhenTheTextHasNoNumber(string? solution) => Assert.Null(MathAnswers.Extract(solution));

    [Theory]
    [InlineData("18", "18")]
    [InlineData(" $1,000 ", "1000")]
    [InlineData("2.50", "2.5")]
    [InlineData("-3", "-3")]
    [InlineData("seventy", null)]
    public void Normalize_ReferenceAnswers_AsExtractDoes(string reference, string? expected) =>
        Assert.Equal(expected, MathAnswers.Normalize(reference));

    [Fact]
    public void Grade_ComparesNormalizedAnswers_AndAMissingAnswerIsIncorrect()
    {
        Assert.True(MathAnswers.Grade(0, "so she has $1,000.00 left\n#### 1000", "1,000").Correct);
        Assert.False(MathAnswers.Grade(1, "#### 1001", "1000").Correct);
        var none = MathAnswers.Grade(2, "no idea", "1000");
        Assert.Equal((2, null, false), (none.Index, none.Answer, none.Correct));
        Assert.False(MathAnswers.Grade(3, "#### 5", "not a number").Correct);
    }

    [Fact]
    public void Choose_SaysWhyThereIsNoPair_WhenAllOrNoneAreCorrect()
    {
        var all = Enumerable.Range(0, 4).Select(i => new GradedSolution(i, "7", true)).ToList();
        var none = Enumerable.Range(0, 4).Select(i => new GradedSolution(i, i == 0 ? null : "6", false)).ToList();

        var a = GradedPairs.Choose(all, new Random(1));
        var n = GradedPairs.Choose(none, new Random(1));

        Assert.Equal((null, null, "all 4 solutions correct"), (a.Chosen, a.Rejected, a.Problem));
        Assert.Equal((null, null, "none of 4 solutions correct"), (n.Chosen, n.Rejected, n.Problem));
        Assert.False(GradedPairs.Choose([], new Random(1)).Ok);
    }

    [Fact]
    public void Choose_PairsACorrectWithAnIncorrectSolution_UniformlyAndReproducibly()
    {
        // Correct: 1, 3, 4; incorrect: 0, 2.
        GradedSolution[] solutions = [new(0, "1", false), new(1, "7", true), new(2, null, false), new(3, "7", true), new(4, "7", true)];
        var counts = new Dictionary<(int, int), int>();
        for (var seed = 0; seed < 6_000; seed++)
        {
            var choice = GradedPairs.Choose(solutions, new Random(seed));
            Assert.True(choice.Ok);
            Assert.True(solutions[choice.Chosen!.Value].Correct);
            Assert.False(solutions[choice.Rejected!.Value].Correct);
            Assert.Equal(choice, GradedPairs.Choose(solutions, new Random(seed)));
            counts[(choice.Chosen.Value, choice.Rejected.Value)] = counts.GetValueOrDefault((choice.Chosen.Value, choice.Rejected.Value)) + 1;
        }

        // 3 × 2 combinations, 1,000 each on average (standard deviation about 29).
        Assert.Equal(6, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 850, 1_150));
    }
}
