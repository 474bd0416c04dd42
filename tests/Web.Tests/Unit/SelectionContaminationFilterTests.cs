using SelfTaught.Core.Data.Entities;
using SelfTaught.Web.Api;

namespace SelfTaught.Web.Tests.Unit;

/// <summary>The <c>contamination</c> filter of <c>GET /api/experiments/{id}/selection</c>, parsed without a server.</summary>
public sealed class SelectionContaminationFilterTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void ParseContamination_IsNoFilter_WhenBlank(string? value) => Assert.Equal((null, null), SelectionApi.ParseContamination(value));

    [Theory]
    [InlineData("None", ContaminationKind.None)]
    [InlineData("exactmatch", ContaminationKind.ExactMatch)]
    [InlineData(" NGramOverlap ", ContaminationKind.NGramOverlap)]
    public void ParseContamination_ReadsAKindByName_InAnyCase(string value, ContaminationKind kind)
    {
        var (kinds, error) = SelectionApi.ParseContamination(value);

        Assert.Null(error);
        Assert.Equal([kind], kinds);
    }

    [Fact]
    public void ParseContamination_MeansEitherKind_ForContaminated()
    {
        var (kinds, error) = SelectionApi.ParseContamination("Contaminated");

        Assert.Null(error);
        Assert.Equal([ContaminationKind.ExactMatch, ContaminationKind.NGramOverlap], kinds);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("-1")]
    [InlineData("exact")]
    [InlineData("None,ExactMatch")]
    public void ParseContamination_NamesTheAcceptedValues_WhenUnknown(string value)
    {
        var (kinds, error) = SelectionApi.ParseContamination(value);

        Assert.Null(kinds);
        Assert.Equal($"contamination must be one of None, ExactMatch, NGramOverlap or contaminated, not '{value}'.", error);
    }
}
