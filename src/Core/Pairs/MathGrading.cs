using System.Globalization;
using System.Text.RegularExpressions;

namespace SelfTaught.Core.Pairs;

/// <summary>One sampled solution of a math question, graded against the reference answer.</summary>
/// <param name="Index">Sample index k (0-based) among the question's solutions.</param>
/// <param name="Answer">The final answer extracted and normalized (see <see cref="MathAnswers.Extract"/>); null when the text has no number.</param>
/// <param name="Correct">Whether <paramref name="Answer"/> equals the normalized reference answer.</param>
public sealed record GradedSolution(int Index, string? Answer, bool Correct);

/// <summary>Which solutions become y_w and y_l of a graded pair, or why there is no pair.</summary>
/// <param name="Chosen">Index of the correct solution (y_w); null when there is no pair.</param>
/// <param name="Rejected">Index of the incorrect solution (y_l); null when there is no pair.</param>
/// <param name="Problem">Why no pair can be made ("all 4 solutions correct", "none of 4 solutions correct"); null on success.</param>
public sealed record GradedPairChoice(int? Chosen, int? Rejected, string? Problem)
{
    /// <summary>A correct and an incorrect solution were found.</summary>
    public bool Ok => Problem is null;
}

/// <summary>
/// GSM8K-style grading (DESIGN §1 step 2, paper §4.1: "We sample from an instruction-following model multiple times to
/// get y_w when the final solution agrees with the ground truth and y_l vice versa"). Pure functions.
/// </summary>
/// <remarks>
/// The final answer of a solution is the first number after its <b>last</b> <c>####</c>, on the marker's line (GSM8K's
/// own format); when the text has no <c>####</c>, or no number follows it on its line, it is the <b>last</b> number in
/// the text (a model answering in prose usually ends with its result). Numbers are normalized before they are compared: a leading <c>$</c>, thousands
/// separators (<c>1,000</c>) and spaces go, a decimal part of zeros goes (<c>18.00</c> → <c>18</c>, <c>2.50</c> →
/// <c>2.5</c>), and <c>-0</c> is <c>0</c>. Fractions and words ("eighteen") are not understood: such a solution has no
/// answer and counts as incorrect.
/// </remarks>
public static partial class MathAnswers
{
    /// <summary>GSM8K's final-answer marker.</summary>
    public const string FinalAnswerMarker = "####";

    // A number: optional sign and $, digits with optional thousands separators, an optional decimal part.
    [GeneratedRegex(@"(?<![\w.])(?<sign>-)?\s?\$?\s?(?<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?<frac>\d+))?(?!\d)", RegexOptions.CultureInvariant)]
    private static partial Regex NumberPattern();

    /// <summary>The normalized final answer of <paramref name="solution"/> (see the remarks of <see cref="MathAnswers"/>); null if it has none.</summary>
    public static string? Extract(string? solution)
    {
        if (string.IsNullOrWhiteSpace(solution)) return null;
        var marker = solution.LastIndexOf(FinalAnswerMarker, StringComparison.Ordinal);
        if (marker >= 0)
        {
            var start = marker + FinalAnswerMarker.Length;
            var end = solution.IndexOfAny(['\n', '\r'], start);
            var after = NumberPattern().Match(end < 0 ? solution[start..] : solution[start..end]);
            if (after.Success) return Normalize(after);
        }
        Match? last = null;
        foreach (Match match in NumberPattern().Matches(solution)) last = match;
        return last is null ? null : Normalize(last);
    }

    /// <summary>
    /// A reference answer (or any text holding one number) in the normalized form <see cref="Extract"/> returns:
    /// <c>"$1,000.00"</c> → <c>"1000"</c>. Null when it holds no number.
    /// </summary>
    public static string? Normalize(string? answer)
    {
        if (string.IsNullOrWhiteSpace(answer)) return null;
        var match = NumberPattern().Match(answer.Trim());
        return match.Success ? Normalize(match) : null;
    }

    /// <summary>Grades solution <paramref name="index"/> against <paramref name="reference"/> (already normalized or not).</summary>
    public static GradedSolution Grade(int index, string? solution, string? reference)
    {
        var answer = Extract(solution);
        var expected = Normalize(reference);
        return new GradedSolution(index, answer, answer is not null && expected is not null && string.Equals(answer, expected, StringComparison.Ordinal));
    }

    private static string Normalize(Match match)
    {
        var integer = match.Groups["int"].Value.Replace(",", "", StringComparison.Ordinal).TrimStart('0');
        if (integer.Length == 0) integer = "0";
        var fraction = match.Groups["frac"].Success ? match.Groups["frac"].Value.TrimEnd('0') : "";
        var number = fraction.Length == 0 ? integer : integer + "." + fraction;
        return match.Groups["sign"].Success && number != "0" ? "-" + number : number;
    }
}

/// <summary>Picks the pair of a graded question: a correct solution as y_w and an incorrect one as y_l, seeded. Pure.</summary>
public static class GradedPairs
{
    /// <summary>
    /// Chooses uniformly (with <paramref name="random"/>) one correct and one incorrect solution of <paramref name="solutions"/>;
    /// when all are correct or none is, says so instead.
    /// </summary>
    public static GradedPairChoice Choose(IReadOnlyList<GradedSolution> solutions, Random random)
    {
        ArgumentNullException.ThrowIfNull(solutions);
        ArgumentNullException.ThrowIfNull(random);
        var correct = solutions.Where(s => s.Correct).Select(s => s.Index).Order().ToList();
        var incorrect = solutions.Where(s => !s.Correct).Select(s => s.Index).Order().ToList();
        if (solutions.Count == 0) return new GradedPairChoice(null, null, "no solutions were sampled");
        if (incorrect.Count == 0) return new GradedPairChoice(null, null, string.Create(CultureInfo.InvariantCulture, $"all {solutions.Count} solutions correct"));
        if (correct.Count == 0) return new GradedPairChoice(null, null, string.Create(CultureInfo.InvariantCulture, $"none of {solutions.Count} solutions correct"));
        // Both draws come from one stream in a fixed order, so the same seed always picks the same two.
        var chosen = correct[random.Next(correct.Count)];
        var rejected = incorrect[random.Next(incorrect.Count)];
        return new GradedPairChoice(chosen, rejected, null);
    }
}
