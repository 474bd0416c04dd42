using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Pairs;

namespace SelfTaught.Core.Tests.Pairs;

public class PairMixingTests
{
    private static List<MixCandidate> Rows(int count, long firstId = 1) =>
        [.. Enumerable.Range(0, count).Select(i => new MixCandidate(firstId + i, i))];

    [Fact]
    public void ItemKeys_RoundTrip_AndSortByMethodThenId()
    {
        var keys = new[] { PairItemKeys.Encode(PairMethod.HhRlhf, 5), PairItemKeys.Encode(PairMethod.ModifiedInstruction, 900_000), PairItemKeys.Encode(PairMethod.GradedMath, 1) };

        Assert.Equal((PairMethod.HhRlhf, 5L), PairItemKeys.Decode(keys[0]));
        Assert.Equal((PairMethod.ModifiedInstruction, 900_000L), PairItemKeys.Decode(keys[1]));
        Assert.Equal((PairMethod.GradedMath, 1L), PairItemKeys.Decode(keys[2]));
        Assert.Equal([keys[1], keys[0], keys[2]], keys.Order());
        Assert.Throws<ArgumentOutOfRangeException>(() => PairItemKeys.Encode(PairMethod.HhRlhf, 1L << 48));
    }

    [Fact]
    public void Choose_TakesTheSeededCount_InIdOrder_IndependentOfInputOrderAndDatabaseIds()
    {
        var rows = Rows(1_000);
        var chosen = MixSelection.Choose(rows, 100, seed: 7, PairMethod.HhRlhf);

        Assert.Equal(100, chosen.Count);
        Assert.Equal(chosen.Order(), chosen);
        Assert.Equal(chosen, MixSelection.Choose(Enumerable.Reverse(rows), 100, 7, PairMethod.HhRlhf));
        // The same rows stored under other ids (another database) are the same rows by position.
        var shifted = MixSelection.Choose(Rows(1_000, firstId: 5_001), 100, 7, PairMethod.HhRlhf);
        Assert.Equal(chosen.Select(id => id + 5_000), shifted);
        // The expected draw, computed independently: the 100 lowest derived seeds.
        var expected = rows.OrderBy(r => Seeds.Derive(7, SeedStreams.Mix, (long)PairMethod.HhRlhf, r.RowIndex)).Take(100).Select(r => r.Id).Order();
        Assert.Equal(expected, chosen);
        Assert.NotEqual(chosen, MixSelection.Choose(rows, 100, 8, PairMethod.HhRlhf));
        Assert.NotEqual(chosen, MixSelection.Choose(rows, 100, 7, PairMethod.HelpSteer2));
        Assert.Equal(rows.Select(r => r.Id), MixSelection.Choose(rows, 5_000, 7, PairMethod.HhRlhf));
        Assert.Empty(MixSelection.Choose(rows, 0, 7, PairMethod.HhRlhf));
    }

    [Fact]
    public void IsHeldOut_HoldsOutTheShare_Deterministically()
    {
        var held = Enumerable.Range(0, 20_000).Count(i => PairSeeds.IsHeldOut(3, PairMethod.ModifiedInstruction, i, 0.05));

        // 20,000 draws at 5%: mean 1,000, standard deviation about 31.
        Assert.InRange(held, 900, 1_100);
        Assert.Equal(held, Enumerable.Range(0, 20_000).Count(i => PairSeeds.IsHeldOut(3, PairMethod.ModifiedInstruction, i, 0.05)));
        Assert.Equal(0, Enumerable.Range(0, 1_000).Count(i => PairSeeds.IsHeldOut(3, PairMethod.ModifiedInstruction, i, 0)));
        // The rule itself, spelled out: Derive(seed, HeldOut, method, row index) / 2^31 below the share.
        Assert.All(Enumerable.Range(0, 2_000), i => Assert.Equal(
            Seeds.Derive(3, SeedStreams.HeldOut, (long)PairMethod.ModifiedInstruction, i) / 2147483648.0 < 0.05,
            PairSeeds.IsHeldOut(3, PairMethod.ModifiedInstruction, i, 0.05)));
        // A larger share holds out a superset: the draw per pair is fixed, only the threshold moves.
        Assert.All(Enumerable.Range(0, 2_000).Where(i => PairSeeds.IsHeldOut(3, PairMethod.HhRlhf, i, 0.05)),
            i => Assert.True(PairSeeds.IsHeldOut(3, PairMethod.HhRlhf, i, 0.2)));
        Assert.Equal(Seeds.Derive(3, SeedStreams.Generation, (long)PairMethod.WorseResponse, 12, 1, 2), PairSeeds.Request(3, PairMethod.WorseResponse, 12, 1, 2));
    }

    [Fact]
    public void HelpSteer2_PrefersByWeightedScore_WhichCanDisagreeWithTheSum()
    {
        // A: verbose and complex; B: more correct. Sums 14 vs 12, weighted 5.35 vs 6.65 (verbosity counts against).
        var a = new HelpSteer2Scores(3, 2, 3, 3, 3);
        var b = new HelpSteer2Scores(3, 4, 3, 1, 1);

        Assert.Equal(0.65 * 3 + 0.8 * 2 + 0.45 * 3 + 0.55 * 3 - 0.4 * 3, a.Weighted, 9);
        Assert.Equal(GoldLabel.A, HelpSteer2Scores.PreferBySum(a, b));
        Assert.Equal(GoldLabel.B, HelpSteer2Scores.PreferByWeight(a, b));
        Assert.Equal(GoldLabel.Tie, HelpSteer2Scores.PreferByWeight(a, a with { }));
        Assert.Equal(a, HelpSteer2Scores.FromJson(a.ToJson()));
        Assert.Equal(a, HelpSteer2Scores.FromJson("""{"Helpfulness":3,"correctness":"2","coherence":3,"complexity":3,"verbosity":3}"""));
        Assert.Null(HelpSteer2Scores.FromJson("""{"helpfulness":3}"""));
        Assert.Null(HelpSteer2Scores.FromJson("not json"));
    }

    [Fact]
    public void SettingsWithAMix_RoundTripThroughJson()
    {
        var settings = new ExperimentSettings
        {
            Generation = new GenerationSettings
            {
                GradedSamples = 6, IncludeSynthetic = false,
                Mix = [new PairMixSource { DatasetId = 4, Kind = PairMethod.GradedMath, Count = 20 }, new PairMixSource { DatasetId = 2, Kind = PairMethod.HelpSteer2, Ratio = 1.5 }],
            },
        };

        var json = settings.ToJson();

        Assert.Equal(settings, ExperimentSettings.FromJson(json));
        Assert.Contains("\"kind\":\"GradedMath\"", json, StringComparison.Ordinal);
        Assert.NotEqual(settings.Generation, settings.Generation with { Mix = [] });
    }

    [Fact]
    public void GenerationProblems_NameTheMixFields()
    {
        var settings = new GenerationSettings
        {
            Mix =
            [
                new PairMixSource { DatasetId = 0, Kind = PairMethod.HhRlhf, Count = 10 },
                new PairMixSource { DatasetId = 3, Kind = PairMethod.HhRlhf, Ratio = 0.5 },
                new PairMixSource { DatasetId = 4, Kind = PairMethod.WorseResponse, Count = 1, Ratio = 1 },
                new PairMixSource { DatasetId = 5, Kind = PairMethod.GradedMath, Count = 0 },
                new PairMixSource { DatasetId = 6, Kind = PairMethod.HelpSteer2, Ratio = double.NaN },
            ],
            GradedSamples = 1,
        };

        var problems = settings.Problems("settings.generation.");

        Assert.Contains("settings.generation.mix[0].datasetId must name an imported dataset, not 0.", problems);
        Assert.Contains("settings.generation.mix[1].kind HhRlhf is mixed in twice; use one source per kind.", problems);
        Assert.Contains("settings.generation.mix[2].kind must be HelpSteer2, HhRlhf or GradedMath, not WorseResponse.", problems);
        Assert.Contains("settings.generation.mix[2] needs either count (pairs) or ratio (pairs per synthetic pair), not both.", problems);
        Assert.Contains("settings.generation.mix[3].count must be at least 1, not 0.", problems);
        Assert.Contains("settings.generation.mix[4].ratio must be above 0 and at most 1000, not NaN.", problems);
        Assert.Contains(problems, p => p.StartsWith("settings.generation.gradedSamples must be 2–32", StringComparison.Ordinal));
        Assert.Equal(7, problems.Count);
        Assert.Contains("mix[0].ratio is relative to the synthetic pairs, but includeSynthetic is false; give a count instead.",
            new GenerationSettings { IncludeSynthetic = false, Mix = [new PairMixSource { DatasetId = 1, Kind = PairMethod.HhRlhf, Ratio = 1 }] }.Problems());
        Assert.Contains("includeSynthetic is false and mix is empty: there would be no pairs to make.", new GenerationSettings { IncludeSynthetic = false }.Problems());
        Assert.Contains("temperature must be 0–2, not 3.", new GenerationSettings { Temperature = 3 }.Problems());
        Assert.Empty(new ExperimentSettings().Problems());
    }
}
