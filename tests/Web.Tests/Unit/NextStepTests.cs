using SelfTaught.Web.Components.Pages.Dashboard;

namespace SelfTaught.Web.Tests.Unit;

public sealed class NextStepTests
{
    [Theory]
    [InlineData(0, 0, 0, 0, 0, "/data")]
    [InlineData(1, 0, 0, 0, 0, "/experiments")]
    [InlineData(1, 1, 0, 0, 0, "/experiments")]
    [InlineData(1, 1, 5, 0, 0, "/experiments")]
    [InlineData(1, 1, 5, 5, 0, "/evaluations")]
    [InlineData(1, 1, 5, 5, 1, "/audit")]
    public void From_PointsToEarliestMissingStep_WhenPipelineIsPartlyDone(
        int pools, int experiments, int pairs, int annotations, int evaluations, string expectedHref)
    {
        var counts = new PipelineCounts(
            Datasets: pools, InstructionPools: pools, Experiments: experiments, Pairs: pairs,
            Annotations: annotations, EvaluationRuns: evaluations, ActiveStageRuns: 0);

        Assert.Equal(expectedHref, NextStep.From(counts).Href);
    }

    [Fact]
    public void From_AsksForInstructionPool_WhenOnlyBenchmarksWereImported()
    {
        var counts = new PipelineCounts(
            Datasets: 2, InstructionPools: 0, Experiments: 0, Pairs: 0, Annotations: 0, EvaluationRuns: 0, ActiveStageRuns: 0);

        Assert.Contains("instruction pool", NextStep.From(counts).Text);
    }
}
