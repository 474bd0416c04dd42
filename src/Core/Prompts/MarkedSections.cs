using System.Text.RegularExpressions;

namespace SelfTaught.Core.Prompts;

/// <summary>A marker phrase found in a model output: the phrase itself and the span including its decoration.</summary>
/// <param name="Kind">Index of the marker in the list searched for.</param>
/// <param name="PhraseStart">Start of the phrase.</param>
/// <param name="PhraseEnd">End (exclusive) of the phrase.</param>
/// <param name="Start">Start of the marker with its brackets and markdown (what precedes it in the section before).</param>
/// <param name="End">End (exclusive) of the marker with its brackets, markdown and colon (where the next section starts).</param>
internal readonly record struct MarkerHit(int Kind, int PhraseStart, int PhraseEnd, int Start, int End);

/// <summary>
/// Finds marker phrases such as <c>[The start of Assistant's answer to the modified instruction]</c> in model output and
/// cuts the text between them, the way DESIGN.md §1 asks of every parser: typographic quotes and whitespace are
/// normalized, case is ignored, square brackets are optional, markdown around a marker (bold, headings, quotes,
/// bullets, inline code, a trailing colon) belongs to the marker. Section text itself is returned as the model wrote
/// it (its typographic quotes stay), trimmed. Matching runs on the non-backtracking engine, so time stays linear in
/// the input however adversarial it is.
/// </summary>
internal static class MarkedSections
{
    /// <summary>
    /// The regex of a marker phrase: its words in order, any whitespace between them, any case; an apostrophe may be
    /// typographic (normalized before matching) or missing. <see cref="Find"/> also requires that no letter or digit
    /// touches either end (unlike <c>\b</c>, an underscore may: <c>__User Question Modified__</c> is markdown bold).
    /// </summary>
    public static Regex PhraseRegex(string phrase)
    {
        var words = phrase.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => Regex.Escape(w).Replace("'", "'?", StringComparison.Ordinal));
        return new Regex(string.Join(@"\s+", words), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    }

    /// <summary>
    /// A copy of <paramref name="text"/> of the same length (so indices carry over) with typographic single and double
    /// quotes mapped to ASCII and zero-width characters mapped to spaces.
    /// </summary>
    public static string NormalizeForMatching(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++) span[i] = Normalize(source[i]);
        });

    private static char Normalize(char c) => c switch
    {
        '\u2018' or '\u2019' or '\u201A' or '\u201B' or '\u2032' or '\u02BC' or '\uFF07' or '\u00B4' => '\'',
        '\u201C' or '\u201D' or '\u201E' or '\u201F' or '\u2033' or '\uFF02' => '"',
        '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' => ' ',
        _ => c,
    };

    /// <summary>Every occurrence of each marker in <paramref name="text"/>, in text order (markers never overlap: their phrases differ).</summary>
    public static List<MarkerHit> Find(string text, IReadOnlyList<Regex> markers)
    {
        var normalized = NormalizeForMatching(text);
        var hits = new List<MarkerHit>();
        for (var kind = 0; kind < markers.Count; kind++)
        {
            foreach (var match in markers[kind].EnumerateMatches(normalized))
            {
                var end = match.Index + match.Length;
                // Glued into a word ("SuperUser Question Modified"): not a marker. No phrase overlaps itself, so skipping
                // this match cannot hide another one.
                if (match.Index > 0 && char.IsLetterOrDigit(normalized[match.Index - 1])) continue;
                if (end < normalized.Length && char.IsLetterOrDigit(normalized[end])) continue;
                hits.Add(new MarkerHit(kind, match.Index, end, ExpandLeft(normalized, match.Index), ExpandRight(normalized, end)));
            }
        }
        hits.Sort((a, b) => a.PhraseStart.CompareTo(b.PhraseStart));
        return hits;
    }

    /// <summary>
    /// Offsets of the code fences of <paramref name="text"/>, ascending: lines whose first non-blank characters are
    /// <c>```</c> or <c>~~~</c> (the offset is that of the fence, after any indentation), and fences that follow a marker
    /// on the marker's own line (<c>[The start of ...] ```python</c>).
    /// </summary>
    public static int[] FenceLines(string text, IReadOnlyList<MarkerHit> hits)
    {
        var fences = new SortedSet<int>();
        for (var lineStart = 0; lineStart < text.Length;)
        {
            var lineEnd = LineEnd(text, lineStart, text.Length);
            var line = text.AsSpan(lineStart, lineEnd - lineStart);
            if (IsFence(line)) fences.Add(lineStart + (line.Length - line.TrimStart().Length));
            lineStart = lineEnd + 1;
        }
        foreach (var hit in hits)
        {
            if (hit.End < text.Length && IsFence(text.AsSpan(hit.End, LineEnd(text, hit.End, text.Length) - hit.End))) fences.Add(hit.End);
        }
        return [.. fences];
    }

    /// <summary>
    /// The text between two markers as the model wrote it: trimmed, without blank or horizontal-rule lines at either
    /// end, and without code-fence lines that belong to a block the markers cut: a first fence line that closes a block
    /// opened before the section, and a last (or else first) fence line left unpaired. A complete code block inside the
    /// section is content (the answer may be code) and stays. Always a substring of <paramref name="text"/>; linear in
    /// the section's length plus a binary search in <paramref name="fenceLines"/> (<see cref="FenceLines"/> of the text and its markers).
    /// </summary>
    public static string Section(string text, int[] fenceLines, int from, int to)
    {
        if (from >= to) return "";
        var (lo, hi) = TrimEdges(text, from, to);
        if (lo == hi) return "";

        var fencesBefore = LowerBound(fenceLines, lo);
        var fencesInside = LowerBound(fenceLines, hi) - fencesBefore;
        if (fencesBefore % 2 == 1 && IsFence(text.AsSpan(lo, LineEnd(text, lo, hi) - lo)))
        {
            // The section starts inside a block opened before its start marker: its first fence closes that block.
            (lo, hi) = TrimEdges(text, LineEnd(text, lo, hi), hi);
            fencesInside--;
        }
        if (fencesInside % 2 == 1 && lo < hi)
        {
            var lastStart = LineStart(text, lo, hi);
            if (IsFence(text.AsSpan(lastStart, hi - lastStart))) hi = lastStart;
            else if (IsFence(text.AsSpan(lo, LineEnd(text, lo, hi) - lo))) lo = LineEnd(text, lo, hi);
            (lo, hi) = TrimEdges(text, lo, hi);
        }
        return text[lo..hi];
    }

    private static int LowerBound(int[] sorted, int value)
    {
        var index = Array.BinarySearch(sorted, value);
        return index >= 0 ? index : ~index;
    }

    /// <summary>Whether a section is the template's own placeholder echoed back, e.g. <c>&lt;provide a worse answer here&gt;</c>.</summary>
    public static bool IsPlaceholder(string section) =>
        section.Length < 200 && section.StartsWith('<') && section.EndsWith('>') && !section.Contains('\n', StringComparison.Ordinal)
        && section[1..].TrimStart().StartsWith("provide", StringComparison.OrdinalIgnoreCase);

    // ---- marker decoration -------------------------------------------------------------------------------------

    private static bool IsHorizontalSpace(char c) => c is ' ' or '\t' || (c != '\n' && c != '\r' && char.IsWhiteSpace(c));

    private static bool IsOpening(char c) => c is '[' or '*' or '_' or '`' or '"' or '\'' or '(' or '<';

    private static bool IsClosing(char c) => c is ']' or '*' or '_' or '`' or '"' or '\'' or ')' or '>';

    // Everything a marker line may carry besides the phrase: heading and quote marks, bullets, brackets, emphasis.
    private static bool IsLineDecoration(char c) => IsHorizontalSpace(c) || IsOpening(c) || IsClosing(c) || c is '#' or '-' or '+' or ':' or '.';

    // Three backticks or tildes open or close a code block: content, never marker decoration.
    private static bool FenceAt(string s, int i) =>
        i + 2 < s.Length && s[i] is '`' or '~' && s[i + 1] == s[i] && s[i + 2] == s[i];

    private static bool FenceEndsAt(string s, int i) => i >= 3 && FenceAt(s, i - 3);

    private static int ExpandLeft(string s, int phraseStart)
    {
        // A marker alone on its line (after "### ", "> ", "- **[" ...) owns the line up to its start.
        var lineStart = phraseStart;
        while (lineStart > 0 && s[lineStart - 1] is not ('\n' or '\r') && IsLineDecoration(s[lineStart - 1]) && !FenceEndsAt(s, lineStart)) lineStart--;
        if (lineStart == 0 || s[lineStart - 1] is '\n' or '\r') return lineStart;

        // Inline after other text: only the brackets and emphasis that touch it, and the spaces around them.
        var i = phraseStart;
        while (i > 0 && IsHorizontalSpace(s[i - 1])) i--;
        while (i > 0 && IsOpening(s[i - 1]) && !FenceEndsAt(s, i)) i--;
        while (i > 0 && IsHorizontalSpace(s[i - 1])) i--;
        return i;
    }

    private static int ExpandRight(string s, int phraseEnd)
    {
        var lineEnd = phraseEnd;
        while (lineEnd < s.Length && s[lineEnd] is not ('\n' or '\r') && IsLineDecoration(s[lineEnd]) && !FenceAt(s, lineEnd)) lineEnd++;
        if (lineEnd == s.Length || s[lineEnd] is '\n' or '\r') return lineEnd;

        // Followed by text on the same line ("User Question Modified: How do I ..."): "]", "**", ":" and spaces.
        var i = phraseEnd;
        while (i < s.Length && IsHorizontalSpace(s[i])) i++;
        while (i < s.Length && IsClosing(s[i]) && !FenceAt(s, i)) i++;
        while (i < s.Length && IsHorizontalSpace(s[i])) i++;
        if (i < s.Length && s[i] == ':')
        {
            i++;
            while (i < s.Length && IsClosing(s[i]) && !FenceAt(s, i)) i++;
        }
        while (i < s.Length && IsHorizontalSpace(s[i])) i++;
        return i;
    }

    // ---- section cleanup ----------------------------------------------------------------------------------------

    private static bool IsBlankOrRule(ReadOnlySpan<char> line)
    {
        var t = line.Trim();
        if (t.IsEmpty) return true;
        // A markdown thematic break: three or more of one of - * _ (spaces allowed between).
        var mark = t[0];
        if (mark is not ('-' or '*' or '_')) return false;
        var count = 0;
        foreach (var c in t)
        {
            if (c == mark) count++;
            else if (!IsHorizontalSpace(c)) return false;
        }
        return count >= 3;
    }

    private static bool IsFence(ReadOnlySpan<char> line)
    {
        var t = line.TrimStart();
        return t.StartsWith("```", StringComparison.Ordinal) || t.StartsWith("~~~", StringComparison.Ordinal);
    }

    /// <summary>
    /// Narrows [lo, hi) past whitespace and blank or horizontal-rule lines at both ends; the front first, then the back,
    /// so each line is looked at once (linear even for a long line facing many rule lines).
    /// </summary>
    private static (int Lo, int Hi) TrimEdges(string text, int lo, int hi)
    {
        while (true)
        {
            while (lo < hi && char.IsWhiteSpace(text[lo])) lo++;
            if (lo == hi) return (lo, hi);
            var firstEnd = LineEnd(text, lo, hi);
            if (!IsBlankOrRule(text.AsSpan(lo, firstEnd - lo))) break;
            lo = firstEnd;
        }
        while (true)
        {
            // The first line stays: it is not blank, so hi never passes it.
            while (char.IsWhiteSpace(text[hi - 1])) hi--;
            var lastStart = LineStart(text, lo, hi);
            if (lastStart == lo || !IsBlankOrRule(text.AsSpan(lastStart, hi - lastStart))) return (lo, hi);
            hi = lastStart;
        }
    }

    /// <summary>End (exclusive, before the line break) of the line starting at <paramref name="lo"/>.</summary>
    private static int LineEnd(string text, int lo, int hi)
    {
        var newline = text.AsSpan(lo, hi - lo).IndexOfAny('\n', '\r');
        return newline < 0 ? hi : lo + newline;
    }

    /// <summary>Start of the line ending at <paramref name="hi"/>.</summary>
    private static int LineStart(string text, int lo, int hi)
    {
        var newline = text.AsSpan(lo, hi - lo).LastIndexOfAny('\n', '\r');
        return newline < 0 ? lo : lo + newline + 1;
    }
}
