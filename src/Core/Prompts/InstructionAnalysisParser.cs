using System.Text.RegularExpressions;

namespace SelfTaught.Core.Prompts;

/// <summary>What the Fig. 7 analysis says of one instruction; fields the output lacks are null and named in <see cref="Error"/>.</summary>
public sealed record InstructionAnalysis(string? Category, int? Complexity, char? Length, string? Error)
{
    /// <summary>All three fields were found.</summary>
    public bool Ok => Error is null;
}

/// <summary>
/// Parses the answer to the paper's Fig. 7 prompt: <c>Category:</c>, <c>Complexity:</c> 1–10 and <c>Length:</c> a–e,
/// tolerant of markdown (bold, headings, bullets), case, "(c)" or "c)" forms, "7/10" and extra text. Pure; never throws.
/// </summary>
public static partial class InstructionAnalysisParser
{
    /// <summary>The categories of Fig. 7, in the paper's order and spelling.</summary>
    public static readonly IReadOnlyList<string> Categories =
    [
        "Coding", "Mathematical reasoning", "Asking for Advice", "Brainstorming", "Classification", "Closed Question Answering",
        "Creative Writing", "Extraction", "Inhabiting a Character/Persona", "Open Question Answering", "Rewriting",
        "Summarization", "Knowledge and Reasoning", "Humanity, History or Social Studies", "Other",
    ];

    /// <summary>The length buckets of Fig. 7: the response length each letter asks for.</summary>
    public static readonly IReadOnlyDictionary<char, string> LengthBuckets = new Dictionary<char, string>
    {
        ['a'] = "1 sentence", ['b'] = "1-3 sentences", ['c'] = "1 paragraph", ['d'] = "2 paragraphs", ['e'] = "3 or more paragraphs",
    };

    /// <summary>Parses <paramref name="output"/>; the last occurrence of each field wins (models often restate the format first).</summary>
    public static InstructionAnalysis Parse(string? output)
    {
        if (string.IsNullOrWhiteSpace(output)) return new(null, null, null, "empty output");
        var text = Clean(output);

        var category = LastMatch(CategoryLine(), text) is { } rawCategory ? MatchCategory(rawCategory) : null;
        int? complexity = LastMatch(ComplexityLine(), text) is { } rawComplexity && int.TryParse(rawComplexity, out var c) && c is >= 1 and <= 10 ? c : null;
        char? length = LastMatch(LengthLine(), text) is { } rawLength ? char.ToLowerInvariant(rawLength[0]) : null;

        var missing = new List<string>();
        if (category is null) missing.Add("Category");
        if (complexity is null) missing.Add("Complexity (1-10)");
        if (length is null) missing.Add("Length (a-e)");
        return new(category, complexity, length, missing.Count == 0 ? null : $"missing or invalid: {string.Join(", ", missing)}");
    }

    private static string Clean(string output) =>
        MarkdownNoise().Replace(output.Replace("\r", "", StringComparison.Ordinal), "");

    private static string? LastMatch(Regex regex, string text)
    {
        var matches = regex.Matches(text);
        for (var i = matches.Count - 1; i >= 0; i--)
        {
            var value = matches[i].Groups["v"].Value.Trim();
            // Skip the echoed format line ("Category: <one of the categories above>").
            if (value.Length > 0 && !value.StartsWith('<')) return value;
        }
        return null;
    }

    private static string? MatchCategory(string raw)
    {
        var value = raw.Trim().TrimEnd('.', ',', ';').Trim('"', '\'', '“', '”');
        var exact = Categories.FirstOrDefault(c => string.Equals(c, value, StringComparison.OrdinalIgnoreCase));
        if (exact is not null) return exact;
        // "Coding (the user asks for a script)" or "Mathematical Reasoning - because ...": take the longest known prefix.
        return Categories.OrderByDescending(c => c.Length).FirstOrDefault(c => value.StartsWith(c, StringComparison.OrdinalIgnoreCase));
    }

    [GeneratedRegex(@"[*_`#>]+")]
    private static partial Regex MarkdownNoise();

    [GeneratedRegex(@"^\s*(?:[-•]\s*)?category\s*[:\-–]\s*(?<v>.+)$", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex CategoryLine();

    [GeneratedRegex(@"^\s*(?:[-•]\s*)?complexity(?:\s*score)?\s*[:\-–]\s*(?<v>\d{1,2})(?:\s*(?:/|out of)\s*10)?\b", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex ComplexityLine();

    [GeneratedRegex(@"^\s*(?:[-•]\s*)?length\s*[:\-–]\s*\(?\s*(?<v>[a-eA-E])\s*\)?(?![a-zA-Z])", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex LengthLine();
}
