using System.Text.RegularExpressions;

namespace SelfTaught.Core.Prompts;

/// <summary>
/// What the Fig. 2 answer yields: the modified instruction x′ and the answer to it, which becomes y_l for the original
/// instruction. On failure both are null, <see cref="Error"/> says why and <see cref="Raw"/> keeps the output.
/// </summary>
/// <param name="ModifiedInstruction">x′, as the model wrote it (trimmed); null on failure.</param>
/// <param name="Response">The answer to x′ (y_l), as the model wrote it (trimmed); null on failure.</param>
/// <param name="Raw">The complete model output, kept for inspection and for the pair's <c>RawOutput</c>.</param>
/// <param name="Error">Why nothing was extracted; null on success.</param>
public sealed record PairSynthesisResult(string? ModifiedInstruction, string? Response, string Raw, string? Error)
{
    /// <summary>Both parts were extracted.</summary>
    public bool Ok => Error is null;
}

/// <summary>
/// Parses the answer to the paper's Fig. 2 prompt (<see cref="PromptLibrary.PairSynthesis"/>). DESIGN.md §1, step 2:
/// "Parse x′ and y_l between the markers <c>User Question Modified</c>, <c>The start of Assistant's answer to the modified
/// instruction</c>, <c>The end of Assistant's answer to the modified instruction</c> (accept with or without <c>[ ]</c>).
/// Missing markers → retry, then mark the pair failed with the raw text kept." and "Marker matching in every parser
/// [...] normalizes typographic quotes and whitespace: the paper's text writes <c>Assistant’s</c> with U+2019."
/// </summary>
/// <remarks>
/// Rules: markers match in any case, with any whitespace (line breaks included) between their words, with straight,
/// typographic or no apostrophe, with or without square brackets, and with markdown around them (bold, headings, block
/// quotes, bullets, inline code, a trailing colon), alone on their line or followed by the text on the same line.
/// x′ is the text between the first and second marker, y_l between the second and third; the three must follow each
/// other with no other marker between them. When the output holds several such runs (a model that first restates the
/// format, then answers) the last one whose parts are non-empty and not the template's <c>&lt;provide ...&gt;</c>
/// placeholders wins. Parts are returned as written (typographic quotes kept), trimmed of whitespace, blank and
/// horizontal-rule lines, and of a code fence the markers cut in half; a complete code block stays. A missing marker,
/// an empty part or only echoed placeholders is a failure: the caller retries, then marks the pair failed (DESIGN §1).
/// Pure; never throws; linear time.
/// </remarks>
public static class PairSynthesisParser
{
    /// <summary>The marker before x′.</summary>
    public const string ModifiedInstructionMarker = "User Question Modified";

    /// <summary>The marker before the answer to x′ (the paper prints <c>Assistant’s</c>).</summary>
    public const string ResponseStartMarker = "The start of Assistant's answer to the modified instruction";

    /// <summary>The marker after the answer to x′.</summary>
    public const string ResponseEndMarker = "The end of Assistant's answer to the modified instruction";

    private static readonly string[] MarkerNames = [ModifiedInstructionMarker, ResponseStartMarker, ResponseEndMarker];
    private static readonly Regex[] Markers = [.. MarkerNames.Select(MarkedSections.PhraseRegex)];

    /// <summary>Parses <paramref name="output"/>; a null or empty output is a failure, not an exception.</summary>
    public static PairSynthesisResult Parse(string? output)
    {
        var raw = output ?? "";
        if (string.IsNullOrWhiteSpace(raw)) return Fail(raw, "empty output");

        var hits = MarkedSections.Find(raw, Markers);
        var missing = MarkerNames.Where((_, kind) => !hits.Exists(h => h.Kind == kind)).ToList();
        if (missing.Count > 0) return Fail(raw, $"missing marker{(missing.Count > 1 ? "s" : "")}: {string.Join(", ", missing.Select(m => $"'{m}'"))}");

        var fences = MarkedSections.FenceLines(raw, hits);
        string? firstProblem = null;
        for (var i = hits.Count - 3; i >= 0; i--)
        {
            if (hits[i].Kind != 0 || hits[i + 1].Kind != 1 || hits[i + 2].Kind != 2) continue;
            var modified = MarkedSections.Section(raw, fences, hits[i].End, hits[i + 1].Start);
            var response = MarkedSections.Section(raw, fences, hits[i + 1].End, hits[i + 2].Start);
            var problem = Problem(modified, "modified instruction") ?? Problem(response, "answer to the modified instruction");
            if (problem is null) return new PairSynthesisResult(modified, response, raw, null);
            firstProblem ??= problem;
        }
        return Fail(raw, firstProblem ?? "markers out of order: expected 'User Question Modified', then the start, then the end of the answer to the modified instruction, with no other marker between them");
    }

    private static string? Problem(string part, string name) =>
        part.Length == 0 ? $"empty {name}"
        : MarkedSections.IsPlaceholder(part) ? $"the template's placeholder instead of a {name}"
        : null;

    private static PairSynthesisResult Fail(string raw, string error) => new(null, null, raw, error);
}
