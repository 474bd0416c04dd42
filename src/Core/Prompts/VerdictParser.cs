using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Prompts;

/// <summary>How a judge verdict is read (DESIGN.md §1).</summary>
public enum VerdictParseMode
{
    /// <summary>Training (judgment annotation, step 3): exactly one of <c>[[A]]</c>/<c>[[B]]</c>, no <c>[[C]]</c>.</summary>
    Strict,

    /// <summary>Evaluation (RewardBench and the other benchmarks, step 6): <c>[[A]]</c> checked first, then <c>[[B]]</c>.</summary>
    Lenient,
}

/// <summary>A parsed judge output: the verdict, or <see cref="Verdict.Invalid"/> with the reason and the raw text.</summary>
/// <param name="Verdict"><see cref="Verdict.A"/>, <see cref="Verdict.B"/>, or <see cref="Verdict.Invalid"/> when the output has no usable verdict.</param>
/// <param name="Mode">The rule the output was read with.</param>
/// <param name="Raw">The complete judge output.</param>
/// <param name="Error">Why the verdict is invalid; null when it is A or B.</param>
/// <param name="CountA">Occurrences of <c>[[A]]</c>.</param>
/// <param name="CountB">Occurrences of <c>[[B]]</c>.</param>
/// <param name="CountTie">Occurrences of <c>[[C]]</c> (MT-Bench's tie token; our prompt offers no tie).</param>
public sealed record VerdictResult(Verdict Verdict, VerdictParseMode Mode, string Raw, string? Error, int CountA, int CountB, int CountTie)
{
    /// <summary>The verdict is A or B.</summary>
    public bool Ok => Verdict != Verdict.Invalid;

    /// <summary>
    /// The output names both A and B, so a lenient verdict is a guess (worth flagging in evaluation even when
    /// <see cref="Ok"/>).
    /// </summary>
    public bool Conflicting => CountA > 0 && CountB > 0;
}

/// <summary>
/// Reads the verdict of the Fig. 8 pairwise judge (<see cref="PromptLibrary.JudgePairwise"/>), exactly as DESIGN.md §1
/// specifies. A verdict token is one of the exact strings <c>[[A]]</c>, <c>[[B]]</c>, <c>[[C]]</c> (upper case, no space
/// inside, found anywhere in the text, also inside markdown such as <c>**[[A]]**</c>); nothing else is a verdict:
/// not <c>[[a]]</c>, <c>[[ A ]]</c>, <c>[A]</c>, "Assistant A is better" nor a full-width <c>［［Ａ］］</c>.
/// Where in the text a token stands (first, last, "final verdict:") never matters.
/// </summary>
/// <remarks>
/// <para><b>Strict</b> (training), DESIGN §1 step 3: "Parse strictly: the set of verdict tokens found is exactly
/// {<c>[[A]]</c>} or {<c>[[B]]</c>} (repeats allowed) → that verdict; both, neither, or any <c>[[C]]</c> → invalid."
/// A judge that restates the format line ("“[[A]]” if assistant A is better, “[[B]]” if ...") names both and is
/// therefore invalid; DESIGN §4: "Parse failures are never silent ties in training".</para>
/// <para><b>Lenient</b> (evaluation), DESIGN §1 step 6: "lenient parse: <c>[[A]]</c> checked first, then <c>[[B]]</c>,
/// else error" (RewardBench's rule: <c>if "[[A]]" in judgment ... elif "[[B]]" in judgment ... else error</c>). So an
/// output with both is A, an output with <c>[[B]]</c> and <c>[[C]]</c> is B, and <c>[[C]]</c> alone is an error (scored
/// 0.5 by the caller), never a tie verdict.</para>
/// <para>Every verdict the strict rule accepts, the lenient rule reads the same way. Pure; never throws; linear time.</para>
/// </remarks>
public static class VerdictParser
{
    /// <summary>The token for "assistant A is better".</summary>
    public const string TokenA = "[[A]]";

    /// <summary>The token for "assistant B is better".</summary>
    public const string TokenB = "[[B]]";

    /// <summary>MT-Bench's tie token, which the Fig. 8 prompt does not offer.</summary>
    public const string TokenTie = "[[C]]";

    /// <summary>Reads <paramref name="output"/> with <paramref name="mode"/>.</summary>
    public static VerdictResult Parse(string? output, VerdictParseMode mode) =>
        mode == VerdictParseMode.Lenient ? ParseLenient(output) : ParseStrict(output);

    /// <summary>The training rule: exactly one distinct token, <c>[[A]]</c> or <c>[[B]]</c>, possibly repeated.</summary>
    public static VerdictResult ParseStrict(string? output)
    {
        var raw = output ?? "";
        var (a, b, tie) = Count(raw);
        var verdict = Verdict.Invalid;
        string? error;
        if (tie > 0)
            error = a > 0 || b > 0 ? $"tie token {TokenTie} besides {Names(a, b)} (the prompt offers no tie)" : $"tie token {TokenTie} (the prompt offers no tie)";
        else if (a > 0 && b > 0)
            error = $"both {TokenA} and {TokenB}";
        else if (a == 0 && b == 0)
            error = raw.Trim().Length == 0 ? "empty output" : $"no verdict {TokenA} or {TokenB}";
        else
        {
            verdict = a > 0 ? Verdict.A : Verdict.B;
            error = null;
        }
        return new VerdictResult(verdict, VerdictParseMode.Strict, raw, error, a, b, tie);
    }

    /// <summary>The evaluation rule: <c>[[A]]</c> anywhere → A; else <c>[[B]]</c> anywhere → B; else an error.</summary>
    public static VerdictResult ParseLenient(string? output)
    {
        var raw = output ?? "";
        var (a, b, tie) = Count(raw);
        var (verdict, error) = a > 0 ? (Verdict.A, (string?)null)
            : b > 0 ? (Verdict.B, null)
            : (Verdict.Invalid, raw.Trim().Length == 0 ? "empty output" : tie > 0 ? $"only the tie token {TokenTie}" : $"no verdict {TokenA} or {TokenB}");
        return new VerdictResult(verdict, VerdictParseMode.Lenient, raw, error, a, b, tie);
    }

    private static string Names(int a, int b) =>
        a > 0 && b > 0 ? $"{TokenA} and {TokenB}" : a > 0 ? TokenA : TokenB;

    private static (int A, int B, int Tie) Count(string text)
    {
        int a = 0, b = 0, tie = 0;
        var span = text.AsSpan();
        // Every token is "[[" + letter + "]]"; tokens cannot overlap one another, so one scan finds them all.
        for (var i = span.IndexOf("[[", StringComparison.Ordinal); i >= 0 && i + 5 <= span.Length;)
        {
            if (span[i + 3] == ']' && span[i + 4] == ']')
            {
                switch (span[i + 2])
                {
                    case 'A': a++; break;
                    case 'B': b++; break;
                    case 'C': tie++; break;
                }
            }
            var next = span[(i + 1)..].IndexOf("[[", StringComparison.Ordinal);
            i = next < 0 ? -1 : i + 1 + next;
        }
        return (a, b, tie);
    }
}
