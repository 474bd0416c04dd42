using SelfTaught.Web.Api;
using SelfTaught.Web.Components.Pages.Data;

namespace SelfTaught.Web.Tests.Unit;

/// <summary>Shares of a selection against its pool (pure), and the axis helpers the bar charts share.</summary>
public sealed class DistributionComparisonTests
{
    [Fact]
    public void Compare_GivesEachSetsOwnShares_InThePoolsOrder_WithSelectionOnlyValuesLast()
    {
        var pool = new[] { new LabelCount("Coding", 6), new LabelCount("Math", 3), new LabelCount("Brainstorming", 1) };
        var selected = new[] { new LabelCount("Math", 3), new LabelCount("Coding", 1), new LabelCount("Other", 1) };

        var comparison = DistributionComparison.Compare(pool, selected);

        Assert.Equal((10, 5), (comparison.PoolTotal, comparison.SelectedTotal));
        Assert.Equal(
            [
                new DistributionComparisonRow("Coding", 6, 60, 1, 20),
                new DistributionComparisonRow("Math", 3, 30, 3, 60),
                new DistributionComparisonRow("Brainstorming", 1, 10, 0, 0),
                new DistributionComparisonRow("Other", 0, 0, 1, 20),
            ],
            comparison.Rows);
    }

    [Fact]
    public void Compare_GivesZeroShares_WhenASetHasNoValues()
    {
        var comparison = DistributionComparison.Compare([new LabelCount("a", 0), new LabelCount("b", 4)], []);

        Assert.Equal([0.0, 100.0], comparison.Rows.Select(r => r.PoolShare));
        Assert.All(comparison.Rows, r => Assert.Equal((0, 0.0), (r.SelectedCount, r.SelectedShare)));
        Assert.Equal(0, comparison.SelectedTotal);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(5, 1)]
    [InlineData(11, 2)]
    [InlineData(12, 5)]
    [InlineData(60, 20)]
    [InlineData(100, 20)]
    public void TickStep_GivesAboutFiveRoundSteps(int largest, int step) => Assert.Equal(step, ChartAxis.TickStep(largest));

    [Theory]
    [InlineData("Mathematical reasoning", 18, "Mathematical…")]
    [InlineData("Coding", 18, "Coding")]
    [InlineData("Inhabiting a Character/Persona", 0, "Inhabiting a Character/Persona")]
    [InlineData("Supercalifragilistic", 8, "Superca…")]
    public void Shorten_CutsAfterAWholeWord(string label, int max, string expected) => Assert.Equal(expected, ChartAxis.Shorten(label, max));
}
