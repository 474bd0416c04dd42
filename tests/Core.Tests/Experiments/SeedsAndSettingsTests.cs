using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;

namespace SelfTaught.Core.Tests.Experiments;

public class SeedsAndSettingsTests
{
    [Fact]
    public void Derive_IsStable_AndDependsOnEveryPartOfThePath()
    {
        var a = Seeds.Derive(42, 1, 2, 3);

        Assert.Equal(a, Seeds.Derive(42, 1, 2, 3));
        Assert.NotEqual(a, Seeds.Derive(43, 1, 2, 3));
        Assert.NotEqual(a, Seeds.Derive(42, 1, 2, 4));
        Assert.NotEqual(a, Seeds.Derive(42, 2, 1, 3));
        Assert.NotEqual(a, Seeds.Derive(42, 1, 2));
        // Pinned (computed independently: SHA-256 of eight zero bytes, first 8 bytes little-endian, mod 2^31): a change
        // of the derivation would silently change every stored experiment's choices.
        Assert.Equal(1_970_296_239L, Seeds.Derive(0));
    }

    [Fact]
    public void Derive_StaysWithinWhatEveryServerAccepts_AndSpreadsEvenly()
    {
        var seeds = Enumerable.Range(0, 20_000).Select(i => Seeds.Derive(7, SeedStreams.Generation, i)).ToList();

        Assert.All(seeds, s => Assert.InRange(s, 0, Seeds.MaxSeed));
        Assert.Equal(seeds.Count, seeds.Distinct().Count());
        var belowHalf = seeds.Count(s => s < Seeds.MaxSeed / 2);
        Assert.InRange(belowHalf, 9_600, 10_400);
    }

    [Fact]
    public void Settings_Default_ToThePapersValues_AndRoundTripThroughJson()
    {
        var settings = new ExperimentSettings();

        Assert.Equal((15, 0.7, 0.9, 4096, false), (settings.Judging.Samples, settings.Judging.Temperature, settings.Judging.TopP, settings.Judging.MaxTokens, settings.Judging.EarlyStop));
        Assert.Equal((0.10, 100), (settings.Judging.FullNShare, settings.Judging.FullNMinimum));
        Assert.Equal((PairMethod.ModifiedInstruction, 0.05), (settings.Generation.Method, settings.Generation.HeldOutShare));
        Assert.Equal(4096, settings.Training.MaxLengthTokens);
        Assert.Empty(settings.Problems());
        var changed = settings with { Judging = settings.Judging with { Samples = 32, EarlyStop = true }, Generation = settings.Generation with { Method = PairMethod.WorseResponse } };
        Assert.Equal(changed, ExperimentSettings.FromJson(changed.ToJson()));
        Assert.Contains("\"WorseResponse\"", changed.ToJson());
        Assert.Equal(new ExperimentSettings(), ExperimentSettings.FromJson("{}"));
        Assert.Equal(new ExperimentSettings(), ExperimentSettings.FromJson(null));
    }

    [Theory]
    [InlineData("generation.method", "settings.generation.method must be ModifiedInstruction or WorseResponse")]
    [InlineData("generation.heldOutShare", "settings.generation.heldOutShare must be at least 0 and below 1")]
    [InlineData("generation.maxAttempts", "settings.generation.maxAttempts must be 1–10")]
    [InlineData("judging.samples", "settings.judging.samples must be 1–256")]
    [InlineData("judging.temperature", "settings.judging.temperature must be 0–2")]
    [InlineData("judging.topP", "settings.judging.topP must be above 0 and at most 1")]
    [InlineData("judging.maxTokens", "settings.judging.maxTokens must be 1–1,000,000")]
    [InlineData("judging.fullNShare", "settings.judging.fullNShare must be above 0 and at most 1")]
    [InlineData("training.maxLengthTokens", "settings.training.maxLengthTokens must be positive")]
    public void Problems_NameTheField(string field, string message)
    {
        var d = new ExperimentSettings();
        var settings = field switch
        {
            "generation.method" => d with { Generation = d.Generation with { Method = PairMethod.HhRlhf } },
            "generation.heldOutShare" => d with { Generation = d.Generation with { HeldOutShare = 1 } },
            "generation.maxAttempts" => d with { Generation = d.Generation with { MaxAttempts = 0 } },
            "judging.samples" => d with { Judging = d.Judging with { Samples = 0 } },
            "judging.temperature" => d with { Judging = d.Judging with { Temperature = double.NaN } },
            "judging.topP" => d with { Judging = d.Judging with { TopP = 0 } },
            "judging.maxTokens" => d with { Judging = d.Judging with { MaxTokens = 0 } },
            "judging.fullNShare" => d with { Judging = d.Judging with { FullNShare = 0 } },
            _ => d with { Training = new TrainingSettings { MaxLengthTokens = 0 } },
        };

        var problem = Assert.Single(settings.Problems());

        Assert.StartsWith(message, problem);
    }
}
