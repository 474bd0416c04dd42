using System.Text.RegularExpressions;

namespace SelfTaught.SimBackend.Generation;

/// <summary>The paper's prompts the simulator recognizes; anything else is a plain instruction.</summary>
public enum SimPromptKind
{
    /// <summary>A plain instruction: answered with a plausible text.</summary>
    Plain,

    /// <summary>Fig. 7: categorize an instruction (<c>Category</c>, <c>Complexity</c>, <c>Length</c>).</summary>
    InstructionAnalysis,

    /// <summary>Fig. 2: modified instruction and an answer to it (the synthetic worse response).</summary>
    PairSynthesis,

    /// <summary>Fig. 10: rewrite an answer into a worse one (ablation).</summary>
    WorseRewrite,

    /// <summary>Fig. 8: MT-Bench/RewardBench pairwise judge, verdict <c>[[A]]</c> or <c>[[B]]</c>.</summary>
    PairwiseJudge,
}

/// <summary>What a request asks for, with the parts of the prompt the answer needs.</summary>
internal sealed record RecognizedPrompt(
    SimPromptKind Kind,
    string Instruction,
    string? BaselineResponse = null,
    string? AnswerA = null,
    string? AnswerB = null,
    bool TypographicApostrophe = false);

/// <summary>
/// Recognizes the paper's prompts (Figs. 2, 7, 8, 10) by fixed phrases, after typographic quotes are mapped to ASCII
/// and whitespace is collapsed, so a template written with <c>Assistant’s</c> or re-wrapped lines still matches.
/// </summary>
internal static class SimPrompts
{
    // Fixed phrases of each template (lower case, ASCII quotes, single spaces). Every phrase of a kind must occur.
    private static readonly (SimPromptKind Kind, string[] Phrases)[] Signatures =
    [
        (SimPromptKind.PairwiseJudge, ["act as an impartial judge", "responses provided by two ai assistants"]),
        (SimPromptKind.PairSynthesis, ["generate a modified instruction that is highly relevant but not semantically identical"]),
        (SimPromptKind.WorseRewrite, ["rewrite the assistant's answer to make it worse"]),
        (SimPromptKind.InstructionAnalysis, ["three steps of analysis about the instruction"]),
    ];

    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant;

    private static readonly Regex JudgeQuestion = new(
        $@"\[+\s*User\s+Question\s*\]+\s*(?<q>.*?)\s*{Marker("[The Start of Assistant A's Answer]")}", Options);

    private static readonly Regex JudgeAnswerA = new(
        $@"{Marker("[The Start of Assistant A's Answer]")}\s*(?<a>.*?)\s*{Marker("[The End of Assistant A's Answer]")}", Options);

    private static readonly Regex JudgeAnswerB = new(
        $@"{Marker("[The Start of Assistant B's Answer]")}\s*(?<b>.*?)\s*{Marker("[The End of Assistant B's Answer]")}", Options);

    // Figs. 2 and 10 share the conversation block; brackets around its markers are optional (the paper's Fig. 2 text
    // prints them without).
    private static readonly Regex Conversation = new(
        @"between\s+an?\s+user\s+and\s+an\s+AI\s+Assistant\.?\s*(?:\[\s*User\s+Question\s*\]\s*)?(?<x>.*?)\s*"
        + @"\[?\s*The\s+start\s+of\s+Assistant's\s+Answer\s*\]?\s*(?<y>.*?)\s*\[?\s*The\s+end\s+of\s+Assistant's\s+Answer\s*\]?",
        Options);

    private static readonly Regex AnalysisInstruction = new(@"<instruction>\s*(?<x>.*?)\s*</instruction>", Options);

    public static SimPromptKind Classify(string promptText)
    {
        var normalized = SimText.Normalize(promptText).ToLowerInvariant();
        foreach (var (kind, phrases) in Signatures)
        {
            if (phrases.All(p => normalized.Contains(p, StringComparison.Ordinal))) return kind;
        }

        return SimPromptKind.Plain;
    }

    public static RecognizedPrompt Recognize(IReadOnlyList<SimMessage> messages)
    {
        var combined = string.Join("\n\n", messages.Select(m => m.Content));
        var lastUser = messages.LastOrDefault(m => m.Role == "user")?.Content ?? combined;
        var text = SimText.NormalizeQuotes(combined);
        var typographic = combined.Contains('\u2019', StringComparison.Ordinal);

        switch (Classify(combined))
        {
            case SimPromptKind.PairwiseJudge:
                return new RecognizedPrompt(
                    SimPromptKind.PairwiseJudge,
                    Group(JudgeQuestion, text, "q") ?? lastUser,
                    AnswerA: Group(JudgeAnswerA, text, "a"),
                    AnswerB: Group(JudgeAnswerB, text, "b"),
                    TypographicApostrophe: typographic);
            case SimPromptKind.PairSynthesis:
            case SimPromptKind.WorseRewrite:
                var conversation = Conversation.Match(text);
                return new RecognizedPrompt(
                    Classify(combined),
                    conversation.Success ? conversation.Groups["x"].Value : lastUser,
                    BaselineResponse: conversation.Success ? conversation.Groups["y"].Value : null,
                    TypographicApostrophe: typographic);
            case SimPromptKind.InstructionAnalysis:
                return new RecognizedPrompt(SimPromptKind.InstructionAnalysis, Group(AnalysisInstruction, text, "x") ?? lastUser);
            default:
                return new RecognizedPrompt(SimPromptKind.Plain, lastUser);
        }
    }

    private static string? Group(Regex regex, string text, string group)
    {
        var match = regex.Match(text);
        return match.Success ? match.Groups[group].Value : null;
    }

    /// <summary>A literal marker as a pattern that accepts any whitespace between its words.</summary>
    private static string Marker(string literal) => Regex.Escape(literal).Replace(@"\ ", @"\s+", StringComparison.Ordinal);
}
