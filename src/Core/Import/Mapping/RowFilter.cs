using static System.FormattableString;

namespace SelfTaught.Core.Import.Mapping;

/// <summary>Applies <see cref="ImportFilters"/> to mapped rows: validity first (empty, too long, NUL), then the user's filters.</summary>
internal static class RowFilter
{
    public static RowOutcome Apply(RowOutcome outcome, ImportFilters filters) => outcome switch
    {
        InstructionDraft d => Check(d, filters) ?? (RowOutcome)d,
        PairDraft p => Check(p, filters) ?? (RowOutcome)p,
        _ => outcome,
    };

    private static Rejection? Check(InstructionDraft d, ImportFilters f)
    {
        if (PromptProblem(d.Text, f) is { } problem) return problem;
        if (f.Language is { } wanted)
        {
            if (d.Language is null)
                return Rejection.Of(RejectionReasons.Language, $"language unknown; only {wanted} is kept", d.Text);
            if (!string.Equals(d.Language.Trim(), wanted.Trim(), StringComparison.OrdinalIgnoreCase))
                return Rejection.Of(RejectionReasons.Language, $"language {d.Language}; only {wanted} is kept", d.Text);
        }
        if (f.DropToxic && d.Toxic) return Rejection.Of(RejectionReasons.Toxic, "flagged toxic", d.Text);
        if (f.DropRedacted && d.Redacted) return Rejection.Of(RejectionReasons.Redacted, "flagged redacted (personal data removed)", d.Text);
        return null;
    }

    private static Rejection? Check(PairDraft p, ImportFilters f)
    {
        if (PromptProblem(p.Prompt, f) is { } problem) return problem;
        foreach (var (name, text) in new[] { ("A (chosen)", p.ResponseA), ("B (rejected)", p.ResponseB) })
        {
            if (text is null || (!p.VerbatimResponses && string.IsNullOrWhiteSpace(text)))
                return Rejection.Of(RejectionReasons.EmptyResponse, $"response {name} is {(text is null ? "missing" : "empty")}", p.Prompt);
            if (text.Length > f.MaxResponseLength)
                return Rejection.Of(RejectionReasons.TooLong, Invariant($"response {name} is {text.Length:N0} characters; the maximum is {f.MaxResponseLength:N0}"), p.Prompt);
            if (text.Contains('\0'))
                return Rejection.Of(RejectionReasons.NulCharacter, $"response {name} contains a NUL character (U+0000)", p.Prompt);
        }
        if (!p.VerbatimResponses && string.Equals(p.ResponseA, p.ResponseB, StringComparison.Ordinal))
            return Rejection.Of(RejectionReasons.IdenticalResponses, "both responses are the same text", p.Prompt);
        return null;
    }

    private static Rejection? PromptProblem(string? text, ImportFilters f)
    {
        if (text is null) return Rejection.Of(RejectionReasons.EmptyPrompt, "no prompt (the value is missing or null)", null);
        if (string.IsNullOrWhiteSpace(text))
            return Rejection.Of(RejectionReasons.EmptyPrompt, text.Length == 0 ? "the prompt is empty" : "the prompt is only whitespace", text);
        if (text.Length > f.MaxPromptLength)
            return Rejection.Of(RejectionReasons.TooLong, Invariant($"prompt is {text.Length:N0} characters; the maximum is {f.MaxPromptLength:N0}"), text);
        if (text.Length < f.MinPromptLength)
            return Rejection.Of(RejectionReasons.TooShort, Invariant($"prompt is {text.Length:N0} characters; the minimum is {f.MinPromptLength:N0}"), text);
        if (text.Contains('\0'))
            return Rejection.Of(RejectionReasons.NulCharacter, "the prompt contains a NUL character (U+0000)", text);
        return null;
    }
}
