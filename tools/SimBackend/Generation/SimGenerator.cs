using System.Text;

namespace SelfTaught.SimBackend.Generation;

/// <summary>Settings one generation reads (taken from a request's options snapshot).</summary>
internal sealed record GenerationSettings(
    double JudgeAccuracy,
    double MalformedRate,
    double UnbracketedMarkerRate,
    int AnswerMinWords,
    int AnswerMaxWords,
    double MathAccuracy = 0.5,
    IReadOnlyDictionary<string, string>? MathAnswerKey = null);

/// <summary>
/// Produces the full text of one completion for a recognized prompt from a seeded random stream. Pure: the same
/// prompt, settings and stream give the same text.
/// </summary>
internal static class SimGenerator
{
    public static string Generate(RecognizedPrompt prompt, GenerationSettings settings, SimRandom rng) => prompt.Kind switch
    {
        SimPromptKind.PairwiseJudge => Judge(prompt, settings, rng),
        SimPromptKind.PairSynthesis => PairSynthesis(prompt, settings, rng),
        SimPromptKind.WorseRewrite => WorseRewrite(prompt, settings, rng),
        SimPromptKind.InstructionAnalysis => InstructionAnalysis(prompt, settings, rng),
        _ when settings.MathAnswerKey?.TryGetValue(SimText.Normalize(prompt.Instruction), out var reference) == true =>
            MathAnswer(prompt.Instruction, reference, settings, rng),
        _ => SimText.SimulatedStatement + " " + PlainAnswer(prompt.Instruction, settings, rng),
    };

    // ---- Math questions of the answer key ------------------------------------------------------------------------

    /// <summary>
    /// A worked-looking answer ending <c>#### n</c> (GSM8K's format): n is the key's answer with probability
    /// <see cref="GenerationSettings.MathAccuracy"/>, else a different number. Nothing is computed.
    /// </summary>
    internal static string MathAnswer(string question, string reference, GenerationSettings settings, SimRandom rng)
    {
        var body = PlainAnswer(question, settings with { AnswerMaxWords = Math.Max(settings.AnswerMinWords, Math.Min(settings.AnswerMaxWords, 60)) }, rng);
        var correct = rng.Chance(settings.MathAccuracy);
        return $"{SimText.SimulatedStatement} {body}\n#### {(correct ? reference : WrongAnswer(reference, rng))}";
    }

    private static string WrongAnswer(string reference, SimRandom rng)
    {
        var offset = rng.NextInclusive(1, 9) * (rng.Chance(0.5) ? 1 : -1);
        var plain = reference.Replace(",", "", StringComparison.Ordinal).Replace("$", "", StringComparison.Ordinal).Trim();
        return decimal.TryParse(plain, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? (value + offset).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : reference + offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    // ---- Plain instructions -------------------------------------------------------------------------------------

    internal static string PlainAnswer(string instruction, GenerationSettings settings, SimRandom rng)
    {
        var keywords = TextBank.Keywords(instruction);
        var target = rng.NextInclusive(settings.AnswerMinWords, Math.Max(settings.AnswerMinWords, settings.AnswerMaxWords));
        var sb = new StringBuilder();
        var words = 0;
        var sentencesInParagraph = 0;
        var used = new HashSet<int>();

        void Add(string sentence)
        {
            if (sb.Length > 0) sb.Append(sentencesInParagraph >= 4 ? "\n\n" : " ");
            if (sentencesInParagraph >= 4) sentencesInParagraph = 0;
            sb.Append(sentence);
            sentencesInParagraph++;
            words += SimTokenizer.CountTokens(sentence);
        }

        Add(TextBank.Fill(rng.Pick(TextBank.Openings), keywords, rng));
        while (words < target)
        {
            var index = rng.Next(TextBank.Sentences.Length);
            // Avoid repeating a sentence until most of the bank has been used.
            if (!used.Add(index) && used.Count < TextBank.Sentences.Length * 3 / 4) continue;
            if (used.Count >= TextBank.Sentences.Length) used.Clear();
            Add(TextBank.Fill(TextBank.Sentences[index], keywords, rng));
        }

        return sb.ToString();
    }

    // ---- Fig. 7: instruction analysis ---------------------------------------------------------------------------

    private static string InstructionAnalysis(RecognizedPrompt prompt, GenerationSettings settings, SimRandom rng)
    {
        // Category, complexity and length follow the instruction itself (a confident analyst), not the sample seed.
        var (category, complexity, length) = TextBank.Analyze(prompt.Instruction);
        var lines = new List<string>
        {
            $"Category: {category}",
            $"Complexity: {complexity}",
            $"Length: ({length})",
        };
        if (rng.Chance(settings.MalformedRate)) lines.RemoveAt(rng.Next(lines.Count));
        return SimText.SimulatedStatement + "\n" + string.Join('\n', lines);
    }

    // ---- Fig. 2: modified instruction + answer (the worse response) ----------------------------------------------

    private static string PairSynthesis(RecognizedPrompt prompt, GenerationSettings settings, SimRandom rng)
    {
        var keywords = TextBank.Keywords(prompt.Instruction);
        var modified = TextBank.Fill(rng.Pick(TextBank.ModifiedInstructions), keywords, rng);
        var answer = SelfSignature.Mark(PlainAnswer(modified, settings, rng));
        var apostrophe = prompt.TypographicApostrophe ? "\u2019" : "'";

        if (rng.Chance(settings.MalformedRate))
        {
            // Markers dropped: the caller's parser must notice and retry.
            return $"{SimText.SimulatedStatement}\nHere is a modified question: {modified}\n\n{answer}";
        }

        var (open, close) = rng.Chance(settings.UnbracketedMarkerRate) ? ("", "") : ("[", "]");
        return $"""
            {SimText.SimulatedStatement}
            {open}User Question Modified{close}
            {modified}

            {open}The start of Assistant{apostrophe}s answer to the modified instruction{close}
            {answer}
            {open}The end of Assistant{apostrophe}s answer to the modified instruction{close}
            """;
    }

    // ---- Fig. 10: rewritten worse answer -------------------------------------------------------------------------

    private static string WorseRewrite(RecognizedPrompt prompt, GenerationSettings settings, SimRandom rng)
    {
        var baseline = (prompt.BaselineResponse ?? "").Replace(SimText.SimulatedStatement, "", StringComparison.Ordinal).Trim();
        var sentences = TextBank.Sentencize(baseline);
        if (sentences.Count == 0) sentences = TextBank.Sentencize(PlainAnswer(prompt.Instruction, settings, rng));

        // Keep about half the sentences, shuffled (less coherent), plus an unhelpful hedge.
        var kept = sentences.OrderBy(_ => rng.NextUInt64()).Take(Math.Max(1, (sentences.Count + 1) / 2)).ToList();
        kept.Insert(rng.Next(kept.Count + 1), rng.Pick(TextBank.UnhelpfulSentences));
        var worse = SelfSignature.Mark(string.Join(' ', kept));
        var aspects = rng.Pick(TextBank.WorseAspects);

        if (rng.Chance(settings.MalformedRate))
        {
            return $"{SimText.SimulatedStatement} First, I choose to make the answer {aspects}.\n\n{worse}";
        }

        var (open, close) = rng.Chance(settings.UnbracketedMarkerRate) ? ("", "") : ("[", "]");
        return $"""
            {SimText.SimulatedStatement} First, I choose to make the answer {aspects}.
            {open}The start of a rewritten worse answer{close}
            {worse}
            {open}The end of a rewritten worse answer{close}
            """;
    }

    // ---- Fig. 8: pairwise judge ----------------------------------------------------------------------------------

    private static string Judge(RecognizedPrompt prompt, GenerationSettings settings, SimRandom rng)
    {
        var verdict = DecideVerdict(prompt, settings.JudgeAccuracy, rng);
        var loser = verdict == 'A' ? 'B' : 'A';
        var keywords = TextBank.Keywords(prompt.Instruction);
        var topic = keywords.Count > 0 ? keywords[0] : "the question";
        var apostrophe = prompt.TypographicApostrophe ? "\u2019" : "'";

        var explanation = new StringBuilder()
            .Append(SimText.SimulatedStatement).Append(' ')
            .Append($"Both assistants respond to the user{apostrophe}s question about {topic}. ")
            .Append($"Assistant {verdict}{apostrophe}s answer {rng.Pick(TextBank.WinnerRemarks)}. ")
            .Append($"Assistant {loser}{apostrophe}s answer {rng.Pick(TextBank.LoserRemarks)}. ")
            .Append(rng.Pick(TextBank.JudgeClosings).Replace("{W}", verdict.ToString(), StringComparison.Ordinal))
            .ToString();

        if (rng.Chance(settings.MalformedRate))
        {
            return rng.Next(3) switch
            {
                0 => explanation + "\n\nBoth answers have merit, and I cannot decide between them.",
                1 => explanation + $"\n\nFinal verdict: [[{verdict}]]. On reflection, however: [[{loser}]]",
                _ => explanation + "\n\nFinal verdict: [[C]]",
            };
        }

        return explanation + $"\n\nFinal verdict: [[{verdict}]]";
    }

    /// <summary>
    /// When exactly one answer carries the simulator's own worse-answer mark, the other is better and the verdict is
    /// right with probability <paramref name="accuracy"/>; otherwise the verdict is a seeded coin flip.
    /// </summary>
    internal static char DecideVerdict(RecognizedPrompt prompt, double accuracy, SimRandom rng)
    {
        var aMarked = prompt.AnswerA is not null && SelfSignature.IsMarked(prompt.AnswerA);
        var bMarked = prompt.AnswerB is not null && SelfSignature.IsMarked(prompt.AnswerB);
        var draw = rng.NextDouble();
        if (aMarked == bMarked) return draw < 0.5 ? 'A' : 'B';
        var better = aMarked ? 'B' : 'A';
        return draw < accuracy ? better : (better == 'A' ? 'B' : 'A');
    }
}

/// <summary>
/// How the simulator recognizes worse answers it wrote itself (Figs. 2 and 10): a zero-width character sequence after
/// the first word (invisible, survives trimming and whitespace normalization), plus a fixed closing phrase as a
/// fallback for pipelines that strip zero-width characters.
/// </summary>
internal static class SelfSignature
{
    public const string ZeroWidthMark = "\u200B\u200D\u200C\u2060\u200B";
    public const string ClosingPhrase = "That is the gist of it.";

    public static string Mark(string text)
    {
        var firstSpace = text.IndexOf(' ', StringComparison.Ordinal);
        var marked = firstSpace < 0 ? text + ZeroWidthMark : text[..firstSpace] + ZeroWidthMark + text[firstSpace..];
        return marked.TrimEnd() + " " + ClosingPhrase;
    }

    public static bool IsMarked(string text) =>
        text.Contains(ZeroWidthMark, StringComparison.Ordinal)
        || SimText.Normalize(text).EndsWith(ClosingPhrase, StringComparison.Ordinal);
}
