using System.Globalization;
using System.Text.Json;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;

namespace SelfTaught.Core.Pairs;

/// <summary>
/// Item ids of the <c>generate-pairs</c> stage. The stage engine identifies items by one ascending <see cref="long"/>,
/// but the stage's items come from several tables (selected instructions, labeled pairs, math questions), so the id is
/// the pair's method in the top bits and the source row's database id below: <c>method &lt;&lt; 48 | id</c>.
/// </summary>
public static class PairItemKeys
{
    private const int Shift = 48;
    private const long IdMask = (1L << Shift) - 1;

    /// <summary>The item id of the pair made by <paramref name="method"/> from source row <paramref name="sourceId"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The source id does not fit in 48 bits.</exception>
    public static long Encode(PairMethod method, long sourceId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sourceId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sourceId, IdMask);
        return ((long)method << Shift) | sourceId;
    }

    /// <summary>The method and source row id of item <paramref name="itemId"/>.</summary>
    public static (PairMethod Method, long SourceId) Decode(long itemId) => ((PairMethod)(itemId >> Shift), itemId & IdMask);
}

/// <summary>Seeded choices that do not depend on database ids: keyed by the pair's method and its source row's position.</summary>
public static class PairSeeds
{
    /// <summary>Generation step of y_w (the plain response to x).</summary>
    public const int ResponseStep = 0;

    /// <summary>Generation step of y_l (pair synthesis, or the worse-response rewrite).</summary>
    public const int RejectedStep = 1;

    /// <summary>Seed stream step of the choice of a graded pair's two solutions (graded solution k uses step k).</summary>
    public const int PairingStep = -1;

    /// <summary>
    /// The seed of one generation request: <c>Seeds.Derive(experiment seed, Generation, method, row index, step, attempt)</c>.
    /// The pair key is (method, row index in its source), so the same file and seed give the same requests anywhere.
    /// </summary>
    public static long Request(long experimentSeed, PairMethod method, int rowIndex, int step, int attempt) =>
        Seeds.Derive(experimentSeed, SeedStreams.Generation, (long)method, rowIndex, step, attempt);

    /// <summary>
    /// Whether the pair (method, row index) is held out: the uniform draw <c>Seeds.Derive(seed, HeldOut, method, row
    /// index) / 2^31</c> is below <paramref name="share"/>. Deterministic, so a rerun agrees with the first run.
    /// </summary>
    public static bool IsHeldOut(long experimentSeed, PairMethod method, int rowIndex, double share) =>
        share > 0 && Seeds.Derive(experimentSeed, SeedStreams.HeldOut, (long)method, rowIndex) / (double)(Seeds.MaxSeed + 1) < share;
}

/// <summary>A row that can be mixed in: its database id and its position in the source file.</summary>
/// <param name="Id">Database id (labeled pair or instruction).</param>
/// <param name="RowIndex">Zero-based position in the source, the key of seeded choices.</param>
public readonly record struct MixCandidate(long Id, int RowIndex);

/// <summary>Which rows of a labeled source are mixed in. Pure.</summary>
public static class MixSelection
{
    /// <summary>
    /// <paramref name="count"/> of <paramref name="candidates"/>, each ranked by <c>Seeds.Derive(seed, Mix, kind, row
    /// index)</c> (ties by row index), returned as database ids in ascending order. All of them when there are fewer.
    /// The draw depends on the rows' positions, not on their database ids or on the order they come in.
    /// </summary>
    public static IReadOnlyList<long> Choose(IEnumerable<MixCandidate> candidates, int count, long seed, PairMethod kind)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var chosen = candidates
            .OrderBy(c => Seeds.Derive(seed, SeedStreams.Mix, (long)kind, c.RowIndex)).ThenBy(c => c.RowIndex).ThenBy(c => c.Id)
            .Take(count).Select(c => c.Id).ToList();
        chosen.Sort();
        return chosen;
    }
}

/// <summary>The five HelpSteer2 attribute scores of one response.</summary>
public sealed record HelpSteer2Scores(double Helpfulness, double Correctness, double Coherence, double Complexity, double Verbosity)
{
    /// <summary>Attribute names in the order of the weights, as the dataset's columns spell them.</summary>
    public static IReadOnlyList<string> Attributes { get; } = ["helpfulness", "correctness", "coherence", "complexity", "verbosity"];

    /// <summary>
    /// The recommended weights [0.65, 0.8, 0.45, 0.55, −0.4] (helpfulness, correctness, coherence, complexity, verbosity),
    /// from nvidia/Llama3-70B-SteerLM-RM, as the paper (§4.1) uses them to derive HelpSteer2 preferences.
    /// </summary>
    public static IReadOnlyList<double> Weights { get; } = [0.65, 0.8, 0.45, 0.55, -0.4];

    /// <summary>The scores in attribute order.</summary>
    public IReadOnlyList<double> Values => [Helpfulness, Correctness, Coherence, Complexity, Verbosity];

    /// <summary>Σ weight × score with <see cref="Weights"/>.</summary>
    public double Weighted => Values.Select((v, i) => v * Weights[i]).Sum();

    /// <summary>Plain sum of the five scores (the import's gold label, and DESIGN's HelpSteer2 benchmark rule).</summary>
    public double Sum => Values.Sum();

    /// <summary>JSON as stored in <see cref="LabeledPair.AttributeScoresAJson"/>: <c>{"helpfulness":3,...}</c>.</summary>
    public string ToJson() => JsonSerializer.Serialize(Attributes.Select((a, i) => (a, v: Values[i])).ToDictionary(x => x.a, x => x.v));

    /// <summary>Reads scores stored by <see cref="ToJson"/> (names compared ignoring case); null when one is missing or not a number.</summary>
    public static HelpSteer2Scores? FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object) return null;
            var values = new double[Attributes.Count];
            for (var i = 0; i < values.Length; i++)
            {
                var property = document.RootElement.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, Attributes[i], StringComparison.OrdinalIgnoreCase));
                if (property.Value.ValueKind == JsonValueKind.Number) values[i] = property.Value.GetDouble();
                else if (property.Value.ValueKind == JsonValueKind.String
                         && double.TryParse(property.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)) values[i] = parsed;
                else return null;
            }
            return new HelpSteer2Scores(values[0], values[1], values[2], values[3], values[4]);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The better response by weighted score: A or B, or Tie when the weighted scores are equal (to 1e-9, so float
    /// rounding of the weights cannot break a true tie).
    /// </summary>
    public static GoldLabel PreferByWeight(HelpSteer2Scores a, HelpSteer2Scores b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var difference = a.Weighted - b.Weighted;
        return Math.Abs(difference) < 1e-9 ? GoldLabel.Tie : difference > 0 ? GoldLabel.A : GoldLabel.B;
    }

    /// <summary>The better response by summed score (Tie when equal): the label an imported HelpSteer2 pair carries.</summary>
    public static GoldLabel PreferBySum(HelpSteer2Scores a, HelpSteer2Scores b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var difference = a.Sum - b.Sum;
        return Math.Abs(difference) < 1e-9 ? GoldLabel.Tie : difference > 0 ? GoldLabel.A : GoldLabel.B;
    }
}
