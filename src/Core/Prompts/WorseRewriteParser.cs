using System.Text.RegularExpressions;

namespace SelfTaught.Core.Prompts;

/// <summary>
/// What the Fig. 10 answer yields: the rewritten worse answer (y_l of the ablation). On failure it is null,
/// <see cref="Error"/> says why and <see cref="Raw"/> keeps the output.
/// </summary>
/// <param name="Response">The rewritten worse answer, as the model wrote it (trimmed); null on failure.</param>
/// <param name="Raw">The complete model output.</param>
/// <param name="Error">Why nothing was extracted; null on success.</param>
public sealed record WorseRewriteResult(string? Response, string Raw, string? Error)
{
    /// <summary>The rewritten answer was extracted.</summary>
    public bool Ok => Error is null;
}

/// <summary>
/// Parses the answer to the paper's Fig. 10 prompt (<see cref="PromptLibrary.WorseResponseRewrite"/>). DESIGN.md §1,
/// step 2: "Ablation (Fig. 10 [...]): rewrite y_w into a worse answer, parsed between <c>[The start of a rewritten worse
/// answer]</c> and <c>[The end of a rewritten worse answer]</c>", with "Marker matching in every parser [...]
/// normaliz[ing] typographic quotes and whitespace".
/// </summary>
/// <remarks>
/// The markers match as in <see cref="PairSynthesisParser"/>: any case, any whitespace between words, brackets optional
/// (as DESIGN accepts for Fig. 2's markers), markdown around them. The answer is the text between a start marker and
/// the end marker that directly follows it; of several such pairs the last with a non-empty, non-placeholder answer
/// wins. The aspects the model names before the start marker are not part of the answer. A missing marker, an empty
/// answer or only the echoed <c>&lt;provide a worse answer here&gt;</c> is a failure. Pure; never throws; linear time.
/// </remarks>
public static class WorseRewriteParser
{
    /// <summary>The marker before the rewritten answer.</summary>
    public const string StartMarker = "The start of a rewritten worse answer";

    /// <summary>The marker after the rewritten answer.</summary>
    public const string EndMarker = "The end of a rewritten worse answer";

    private static readonly string[] MarkerNames = [StartMarker, EndMarker];
    private static readonly Regex[] Markers = [.. MarkerNames.Select(MarkedSections.PhraseRegex)];

    /// <summary>Parses <paramref name="output"/>; a null or empty output is a failure, not an exception.</summary>
    public static WorseRewriteResult Parse(string? output)
    {
        var raw = output ?? "";
        if (string.IsNullOrWhiteSpace(raw)) return new(null, raw, "empty output");

        var hits = MarkedSections.Find(raw, Markers);
        var missing = MarkerNames.Where((_, kind) => !hits.Exists(h => h.Kind == kind)).ToList();
        if (missing.Count > 0) return new(null, raw, $"missing marker{(missing.Count > 1 ? "s" : "")}: {string.Join(", ", missing.Select(m => $"'{m}'"))}");

        var fences = MarkedSections.FenceLines(raw, hits);
        string? firstProblem = null;
        for (var i = hits.Count - 2; i >= 0; i--)
        {
            if (hits[i].Kind != 0 || hits[i + 1].Kind != 1) continue;
            var response = MarkedSections.Section(raw, fences, hits[i].End, hits[i + 1].Start);
            var problem = response.Length == 0 ? "empty rewritten answer"
                : MarkedSections.IsPlaceholder(response) ? "the template's placeholder instead of a rewritten answer"
                : null;
            if (problem is null) return new(response, raw, null);
            firstProblem ??= problem;
        }
        return new(null, raw, firstProblem ?? "markers out of order: expected the start, then the end of a rewritten worse answer");
    }
}
