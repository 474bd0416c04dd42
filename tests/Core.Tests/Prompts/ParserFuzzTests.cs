using System.Text;
using System.Text.RegularExpressions;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Tests.Prompts;

/// <summary>
/// Seeded random text against the three parsers: they never throw, and what they return obeys their rules whatever
/// the input (markers anywhere, in any style, unicode, lone surrogates, very long text).
/// </summary>
public class ParserFuzzTests
{
    private static readonly string[] PairMarkers =
        [PairSynthesisParser.ModifiedInstructionMarker, PairSynthesisParser.ResponseStartMarker, PairSynthesisParser.ResponseEndMarker];

    private static readonly string[] RewriteMarkers = [WorseRewriteParser.StartMarker, WorseRewriteParser.EndMarker];

    // Pieces random text is made of: marker words and fragments, markdown, verdict tokens and near misses, unicode
    // (accents, CJK, emoji, lone surrogates, right-to-left override, combining mark, NUL, line and paragraph separators).
    private static readonly string[] Atoms =
    [
        "User", "Question", "Modified", "The", "start", "end", "of", "Assistant", "'s", "’s", "answer", "to", "the", "modified",
        "instruction", "a", "rewritten", "worse", "[", "]", "[[", "]]", "A", "B", "C", "**", "#", "`", "```", "~~~", "---", ":",
        "<provide", ">", "\n", "\r\n", "\r", " ", "  ", "\t", "\u00A0", "\u200B", "\u2028", "\u2029", "\u0085", "é", "日本", "😀",
        "\uD83D", "\uDC00", "\u202E", "\u0301", "\0", "{", "}", "“", "”", "’", "‘", "[[A]]", "[[B]]", "[[C]]", "[[a]]", "[[ B ]]",
        "［［Ａ］］", "—", "İ", "ß", "ﬁ",
    ];

    private static readonly string[] SafeWords =
    [
        "alpha", "naïve", "日本語", "😀", "It’s", "“quoted”", "{braces}", "[[A]]", "x = 1;", "100%", "Ωmega", "ﬁne", "İstanbul",
        "<tag>", "**bold**", "_it_", "a\u00A0b", "don't", "#hash", "(paren)", "end.", "Start", "question", "answer",
    ];

    [Fact]
    public void PairSynthesis_NeverThrows_AndKeepsItsInvariants_OnRandomText()
    {
        var random = new Random(20240808);
        for (var i = 0; i < 4_000; i++)
        {
            var text = RandomText(random, random.Next(0, 120));
            if (random.Next(2) == 0) text = InsertMarkers(random, text, PairMarkers, random.Next(1, 7));

            AssertPairInvariants(text, PairSynthesisParser.Parse(text));
        }
    }

    [Fact]
    public void WorseRewrite_NeverThrows_AndKeepsItsInvariants_OnRandomText()
    {
        var random = new Random(20240809);
        for (var i = 0; i < 4_000; i++)
        {
            var text = RandomText(random, random.Next(0, 120));
            if (random.Next(2) == 0) text = InsertMarkers(random, text, RewriteMarkers, random.Next(1, 5));

            AssertRewriteInvariants(text, WorseRewriteParser.Parse(text));
        }
    }

    [Fact]
    public void PairSynthesis_RecoversTheWrittenParts_InAnyMarkerStyle()
    {
        var random = new Random(7);
        for (var i = 0; i < 2_000; i++)
        {
            var x = RandomContent(random);
            var y = RandomContent(random);
            var output = new StringBuilder();
            if (random.Next(3) == 0) output.Append(RandomContent(random)).Append('\n');
            if (random.Next(4) == 0)
            {
                // The model restates the format before answering.
                output.Append(Styled(random, PairMarkers[0])).Append("\n<provide a modified instruction here>\n")
                    .Append(Styled(random, PairMarkers[1])).Append("\n<provide a high-quality response to the modified instruction>\n")
                    .Append(Styled(random, PairMarkers[2])).Append("\n\n");
            }
            output.Append(Styled(random, PairMarkers[0])).Append(Blank(random)).Append(x).Append(Blank(random))
                .Append(Styled(random, PairMarkers[1])).Append(Blank(random)).Append(y).Append(Blank(random))
                .Append(Styled(random, PairMarkers[2]));
            if (random.Next(3) == 0) output.Append('\n').Append(RandomContent(random));
            var text = random.Next(5) == 0 ? $"```\n{output}\n```" : output.ToString();

            var result = PairSynthesisParser.Parse(text);

            Assert.True(result.Ok, $"case {i}: {result.Error}\n{text}");
            Assert.Equal(x, result.ModifiedInstruction);
            Assert.Equal(y, result.Response);
        }
    }

    [Fact]
    public void WorseRewrite_RecoversTheWrittenAnswer_InAnyMarkerStyle()
    {
        var random = new Random(8);
        for (var i = 0; i < 2_000; i++)
        {
            var y = RandomContent(random);
            var text = "First, I choose verbosity." + Blank(random) + Styled(random, RewriteMarkers[0]) + Blank(random) + y + Blank(random)
                + Styled(random, RewriteMarkers[1]) + (random.Next(2) == 0 ? "" : "\n" + RandomContent(random));

            var result = WorseRewriteParser.Parse(text);

            Assert.True(result.Ok, $"case {i}: {result.Error}\n{text}");
            Assert.Equal(y, result.Response);
        }
    }

    [Fact]
    public void Verdicts_NeverThrow_AndFollowTheStrictAndLenientRules_OnRandomText()
    {
        var random = new Random(15);
        for (var i = 0; i < 10_000; i++)
        {
            var text = RandomText(random, random.Next(0, 80));
            var (a, b, c) = (Occurrences(text, "[[A]]"), Occurrences(text, "[[B]]"), Occurrences(text, "[[C]]"));

            var strict = VerdictParser.ParseStrict(text);
            var lenient = VerdictParser.ParseLenient(text);

            var expectedStrict = c > 0 || (a > 0) == (b > 0) ? Verdict.Invalid : a > 0 ? Verdict.A : Verdict.B;
            var expectedLenient = a > 0 ? Verdict.A : b > 0 ? Verdict.B : Verdict.Invalid;
            Assert.Equal(expectedStrict, strict.Verdict);
            Assert.Equal(expectedLenient, lenient.Verdict);
            Assert.Equal((a, b, c), (strict.CountA, strict.CountB, strict.CountTie));
            Assert.True(strict.Ok == (strict.Error is null) && lenient.Ok == (lenient.Error is null));
            Assert.Equal(text, strict.Raw);
            // What training accepts, evaluation reads the same way.
            if (strict.Ok) Assert.Equal(strict.Verdict, lenient.Verdict);
        }
    }

    [Fact]
    public void Parsers_HandleVeryLongInput()
    {
        var random = new Random(99);
        var noise = RandomText(random, 200_000);
        var longAnswer = string.Concat(Enumerable.Repeat("A long answer line with “quotes” and 😀.\n", 25_000)).TrimEnd();
        var valid = $"User Question Modified\nWhat is 2+2?\nThe start of Assistant’s answer to the modified instruction\n{longAnswer}\nThe end of Assistant’s answer to the modified instruction";

        var pair = PairSynthesisParser.Parse(noise + "\n" + valid);
        var repeated = PairSynthesisParser.Parse(string.Concat(Enumerable.Repeat("[User Question Modified] [The start of Assistant's answer to the modified instruction] ", 50_000)));
        var manyRuns = PairSynthesisParser.Parse(string.Concat(Enumerable.Repeat(valid.Replace(longAnswer, "short"), 20_000)) + "\n" + valid);
        var rewrite = WorseRewriteParser.Parse(string.Concat(Enumerable.Repeat("[The start of a rewritten worse answer]\n", 100_000)));
        var longLine = new string('x', 1_000_000);
        var rules = WorseRewriteParser.Parse($"[The start of a rewritten worse answer]\n{longLine}{string.Concat(Enumerable.Repeat("\n---", 100_000))}\n[The end of a rewritten worse answer]");
        var brackets = VerdictParser.ParseStrict(new string('[', 1_000_000) + "[[B]]" + new string(']', 1_000_000));
        var manyTokens = VerdictParser.ParseLenient(string.Concat(Enumerable.Repeat("[[B]]", 200_000)));

        AssertPairInvariants(noise + "\n" + valid, pair);
        Assert.Equal(longAnswer, pair.Response);
        Assert.Contains("missing marker", repeated.Error);
        Assert.Equal(longAnswer, manyRuns.Response);
        Assert.Contains("missing marker", rewrite.Error);
        Assert.Equal(longLine, rules.Response);
        Assert.Equal((Verdict.B, 1), (brackets.Verdict, brackets.CountB));
        Assert.Equal((Verdict.B, 200_000), (manyTokens.Verdict, manyTokens.CountB));
    }

    // ---- invariants ------------------------------------------------------------------------------------------------

    private static void AssertPairInvariants(string input, PairSynthesisResult result)
    {
        Assert.Equal(input, result.Raw);
        Assert.Equal(result.Ok, result.Error is null);
        if (!result.Ok)
        {
            Assert.False(string.IsNullOrWhiteSpace(result.Error));
            Assert.Null(result.ModifiedInstruction);
            Assert.Null(result.Response);
            return;
        }
        AssertExtracted(input, result.ModifiedInstruction, PairMarkers);
        AssertExtracted(input, result.Response, PairMarkers);
    }

    private static void AssertRewriteInvariants(string input, WorseRewriteResult result)
    {
        Assert.Equal(input, result.Raw);
        Assert.Equal(result.Ok, result.Error is null);
        if (!result.Ok)
        {
            Assert.False(string.IsNullOrWhiteSpace(result.Error));
            Assert.Null(result.Response);
            return;
        }
        AssertExtracted(input, result.Response, RewriteMarkers);
    }

    /// <summary>An extracted part is a non-empty, trimmed piece of the input that holds no marker.</summary>
    private static void AssertExtracted(string input, string? part, string[] markers)
    {
        Assert.False(string.IsNullOrEmpty(part));
        Assert.Contains(part, input, StringComparison.Ordinal);
        Assert.Equal(part.Trim(), part);
        var canonical = Canonical(part);
        Assert.All(markers, m => Assert.DoesNotMatch(@"(?<![\p{L}\p{N}])" + Regex.Escape(Canonical(m)).Replace("'", "'?", StringComparison.Ordinal) + @"(?![\p{L}\p{N}])", canonical));
    }

    /// <summary>ASCII lower case, apostrophes and quotes made ASCII, every run of whitespace or zero-width characters one space.</summary>
    private static string Canonical(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || c is '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF')
            {
                if (builder.Length == 0 || builder[^1] != ' ') builder.Append(' ');
            }
            else if (c is '’' or '‘' or '‚' or '‛' or '′' or 'ʼ' or '＇' or '´') builder.Append('\'');
            else builder.Append(c < 128 ? char.ToLowerInvariant(c) : c);
        }
        return builder.ToString();
    }

    private static int Occurrences(string text, string token) => Regex.Count(text, Regex.Escape(token));

    // ---- generators ------------------------------------------------------------------------------------------------

    private static string RandomText(Random random, int atoms)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < atoms; i++)
        {
            builder.Append(random.Next(4) == 0 ? ((char)random.Next(0x20, 0x3000)).ToString() : Atoms[random.Next(Atoms.Length)]);
            if (random.Next(3) == 0) builder.Append(' ');
        }
        return builder.ToString();
    }

    private static string InsertMarkers(Random random, string text, string[] markers, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var at = random.Next(text.Length + 1);
            // Never split a surrogate pair: the invariants compare against the exact input.
            if (at > 0 && at < text.Length && char.IsLowSurrogate(text[at]) && char.IsHighSurrogate(text[at - 1])) at--;
            var separator = random.Next(2) == 0 ? "\n" : " ";
            text = text[..at] + separator + Styled(random, markers[random.Next(markers.Length)]) + separator + text[at..];
        }
        return text;
    }

    /// <summary>A marker as models write it: brackets or not, any case, any apostrophe, odd whitespace, markdown around it.</summary>
    private static string Styled(Random random, string marker)
    {
        var text = random.Next(4) switch
        {
            0 => marker.ToUpperInvariant(),
            1 => marker.ToLowerInvariant(),
            2 => string.Join(' ', marker.Split(' ').Select(w => char.ToUpperInvariant(w[0]) + w[1..])),
            _ => marker,
        };
        text = text.Replace("'", random.Next(4) switch { 0 => "’", 1 => "‘", 2 => "", _ => "'" }, StringComparison.Ordinal);
        string[] spaces = [" ", " ", " ", "  ", "\t", "\u00A0", "\n", " \u200B", "\u2003"];
        text = string.Join("", text.Split(' ').Select((w, i) => i == 0 ? w : spaces[random.Next(spaces.Length)] + w));
        if (random.Next(2) == 0) text = $"[{text}]";
        text = random.Next(9) switch
        {
            0 => $"**{text}**",
            1 => $"__{text}__",
            2 => $"### {text}",
            3 => $"> {text}",
            4 => $"- {text}",
            5 => $"`{text}`",
            6 => $"**{text}:**",
            7 => $"{text}:",
            _ => text,
        };
        return "\n" + (random.Next(3) == 0 ? "  " : "") + text + (random.Next(3) == 0 ? "  " : "") + "\n";
    }

    private static string Blank(Random random) => random.Next(3) switch { 0 => "\n", 1 => "\n\n", _ => "\r\n  \r\n" };

    /// <summary>Trimmed multi-line text whose first and last lines are words (inner lines may be blank or a code block).</summary>
    private static string RandomContent(Random random)
    {
        var lines = new List<string>();
        var count = random.Next(1, 6);
        for (var i = 0; i < count; i++)
        {
            var words = Enumerable.Range(0, random.Next(1, 9)).Select(_ => SafeWords[random.Next(SafeWords.Length)]).ToList();
            words[0] = "w" + words[0]; // a letter first: never blank, a rule, a fence or a "<provide" placeholder
            lines.Add(string.Join(' ', words));
            if (i < count - 1 && random.Next(4) == 0) lines.Add(random.Next(2) == 0 ? "" : "```py\nprint('x')\n```");
        }
        return string.Join('\n', lines) + (random.Next(4) == 0 ? " end." : "");
    }
}
