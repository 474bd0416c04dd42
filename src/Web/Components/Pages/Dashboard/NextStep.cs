namespace SelfTaught.Web.Components.Pages.Dashboard;

/// <summary>What the dashboard suggests doing next, derived from what the database already holds.</summary>
public sealed record NextStep(string Text, string Href, string LinkText)
{
    /// <summary>Picks the earliest pipeline step that has not happened yet.</summary>
    public static NextStep From(PipelineCounts counts) => counts switch
    {
        { InstructionPools: 0 } => new(
            "Import an instruction pool (for example WildChat prompts) to give experiments something to work on.",
            "/data", "Go to Data"),
        { Experiments: 0 } => new(
            "Create an experiment: pick a seed judge model and select instructions from your pool.",
            "/experiments", "Go to Experiments"),
        { Pairs: 0 } => new(
            "Run pair synthesis in an experiment to build preference pairs from its selected instructions.",
            "/experiments", "Go to Experiments"),
        { Annotations: 0 } => new(
            "Judge the pairs with the current judge model to start the first iteration.",
            "/experiments", "Go to Experiments"),
        { EvaluationRuns: 0 } => new(
            "Evaluate a judge model on a benchmark to see how it scores.",
            "/evaluations", "Go to Evaluations"),
        _ => new(
            "Spot-check judgments blind to measure how often reviewers agree with the synthetic labels.",
            "/audit", "Go to Audit"),
    };
}

/// <summary>How far the pipeline has got: counts of stored artifacts.</summary>
public sealed record PipelineCounts(
    int Datasets,
    int InstructionPools,
    int Experiments,
    int Pairs,
    int Annotations,
    int EvaluationRuns,
    int ActiveStageRuns);
