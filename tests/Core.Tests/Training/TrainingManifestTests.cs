using System.Text.Json;
using System.Text.Json.Nodes;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Stages;
using SelfTaught.Core.Training;
using static SelfTaught.Core.Tests.Training.TrainingSetPlannerTests;

namespace SelfTaught.Core.Tests.Training;

public class TrainingManifestTests
{
    private static readonly WrittenFile[] Files =
    [
        new(TrainingFiles.Sft, TrainingFiles.SftFormat, 2, 100, "aa"),
        new(TrainingFiles.Dpo, TrainingFiles.DpoFormat, 2, 200, "bb"),
        new(TrainingFiles.OpenAi, TrainingFiles.OpenAiFormat, 2, 90, "cc"),
    ];

    private static TrainingPlan Plan(bool earlyStop) => TrainingSetPlanner.Plan(Input(
    [
        Kept(1, Position.A, others: [Verdict.B]),
        Kept(2, Position.B, others: [Verdict.A, Verdict.Invalid]),
        Kept(3, Position.B),
        Kept(4, Position.A, heldOut: true, others: [Verdict.B]),
    ], earlyStop: earlyStop));

    [Fact]
    public void Create_RecordsCountsSeedsTemplatesSamplingAndFiles()
    {
        var plan = Plan(earlyStop: false);
        var samples = plan.Input.Annotations.Where(a => !a.HeldOut).SelectMany(a => a.Samples).ToList();

        var manifest = TrainingManifest.Create(plan, Files, samples);
        using var json = JsonDocument.Parse(manifest.ToJson());
        var root = json.RootElement;

        Assert.Equal(TrainingManifest.CurrentFormat, root.GetProperty("format").GetString());
        Assert.Equal((7, 2), (root.GetProperty("experimentId").GetInt64(), root.GetProperty("iteration").GetInt32()));
        Assert.Equal(plan.BalanceSeed, root.GetProperty("seeds").GetProperty("balance").GetInt64());
        Assert.Equal(plan.DpoRejectedSeed, root.GetProperty("seeds").GetProperty("dpoRejected").GetInt64());
        Assert.Equal(99, root.GetProperty("seeds").GetProperty("experiment").GetInt64());
        var counts = root.GetProperty("counts");
        Assert.Equal((4, 1, 3, 1), (counts.GetProperty("annotations").GetInt32(), counts.GetProperty("heldOutExcluded").GetInt32(),
            counts.GetProperty("kept").GetInt32(), counts.GetProperty("parseFailures").GetInt32()));
        var sft = root.GetProperty("sft");
        Assert.Equal((1, 2, 1, 1, 2, 1), (sft.GetProperty("goldABeforeBalancing").GetInt32(), sft.GetProperty("goldBBeforeBalancing").GetInt32(),
            sft.GetProperty("goldA").GetInt32(), sft.GetProperty("goldB").GetInt32(), sft.GetProperty("rows").GetInt32(), sft.GetProperty("removedByBalancing").GetInt32()));
        var dpo = root.GetProperty("dpo");
        Assert.Equal((2, 1, 2), (dpo.GetProperty("candidates").GetInt32(), dpo.GetProperty("pairsWithoutIncorrectSample").GetInt32(), dpo.GetProperty("rows").GetInt32()));
        var template = Assert.Single(root.GetProperty("templates").EnumerateArray());
        Assert.Equal(("judge-pairwise", 1, "abc"), (template.GetProperty("key").GetString(), template.GetProperty("version").GetInt32(), template.GetProperty("contentHash").GetString()));
        Assert.Equal(["judge@sha"], root.GetProperty("judge").GetProperty("sampleModels").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal([0.7], root.GetProperty("sampling").GetProperty("temperatures").EnumerateArray().Select(t => t.GetDouble()));
        Assert.Equal(["sft.jsonl", "dpo.jsonl", "openai.jsonl"], root.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.Equal("bb", root.GetProperty("files")[1].GetProperty("sha256").GetString());
        Assert.Equal(200, root.GetProperty("files")[1].GetProperty("bytes").GetInt64());
        Assert.Equal(4096, root.GetProperty("length").GetProperty("maxLengthTokens").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("earlyStop").ValueKind);
        Assert.Contains(manifest.Notes, n => n.Contains("Invalid", StringComparison.Ordinal));
    }

    [Fact]
    public void ToJson_IsByteIdentical_ForTheSameInputs_AndRoundTrips()
    {
        var samples = Plan(false).Input.Annotations.SelectMany(a => a.Samples).ToList();
        var first = TrainingManifest.Create(Plan(false), Files, samples).ToJson();
        var second = TrainingManifest.Create(Plan(false), Files, [.. samples.AsEnumerable().Reverse()]).ToJson();

        Assert.Equal(first, second);
        Assert.EndsWith("}\n", first, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', first);
        var back = TrainingManifest.FromJson(first)!;
        Assert.Equal(first, back.ToJson());
    }

    [Fact]
    public void Create_UnderEarlyStop_SaysDpoComesOnlyFromPairsWithAnIncorrectSample_AndSkewsHard()
    {
        var manifest = TrainingManifest.Create(Plan(earlyStop: true), Files, []);

        Assert.NotNull(manifest.EarlyStop);
        Assert.Contains("only from the 2 of 3 usable kept pairs", manifest.EarlyStop, StringComparison.Ordinal);
        Assert.Contains("1 have none", manifest.EarlyStop, StringComparison.Ordinal);
        Assert.Contains("hard pairs", manifest.EarlyStop, StringComparison.Ordinal);
        Assert.True(manifest.Sampling.EarlyStop);
    }

    [Fact]
    public void MergeStatistics_KeepsWhatTheJudgeStageStored_AndReplacesOnlyTraining()
    {
        var judge = """{"judge":{"accuracy":0.61,"pairs":120},"training":{"size":1}}""";

        var merged = JsonNode.Parse(BuildTrainingSetStage.MergeStatistics(judge, new JsonObject { ["size"] = 40 }))!;

        Assert.Equal(0.61, merged["judge"]!["accuracy"]!.GetValue<double>());
        Assert.Equal(120, merged["judge"]!["pairs"]!.GetValue<int>());
        Assert.Equal(40, merged["training"]!["size"]!.GetValue<int>());
        Assert.Equal(JsonNode.Parse("""{"training":{"a":1}}""")!.ToJsonString(), BuildTrainingSetStage.MergeStatistics(null, new JsonObject { ["a"] = 1 }));
        Assert.Equal("[1,2]", JsonNode.Parse(BuildTrainingSetStage.MergeStatistics("[1,2]", []))!["previous"]!.GetValue<string>());
        Assert.Equal("not json", JsonNode.Parse(BuildTrainingSetStage.MergeStatistics("not json", []))!["previous"]!.GetValue<string>());
    }
}
