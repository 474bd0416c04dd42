using System.Text.RegularExpressions;
using static System.FormattableString;

namespace SelfTaught.Core.Prompts;

/// <summary>An edited copy of a template, as the user typed it.</summary>
/// <param name="Name">Name of the new version.</param>
/// <param name="SystemText">System message; empty or null for none.</param>
/// <param name="UserText">User message with the family's placeholders.</param>
public sealed record TemplateEdit(string? Name, string? SystemText, string? UserText);

/// <summary>What is wrong with a <see cref="TemplateEdit"/> (blocks saving) and what looks risky (does not).</summary>
/// <param name="Errors">Problems by field (<c>name</c>, <c>systemText</c>, <c>userText</c>); empty when the edit can be saved.</param>
/// <param name="Warnings">Things the stage's parser relies on that the text no longer asks for.</param>
/// <param name="Required">Placeholders the family's stage fills, which the user text must contain (and no others).</param>
/// <param name="Missing">Required placeholders the user text lacks.</param>
/// <param name="Unknown">Placeholders of the user text the stage does not fill.</param>
public sealed record TemplateCheck(
    IReadOnlyDictionary<string, string[]> Errors, IReadOnlyList<string> Warnings,
    IReadOnlyList<string> Required, IReadOnlyList<string> Missing, IReadOnlyList<string> Unknown)
{
    /// <summary>No errors: the edit can be saved.</summary>
    public bool Ok => Errors.Count == 0;

    /// <summary>Every error in one sentence list, fields in a fixed order.</summary>
    public string Message => string.Join(" ", Errors.OrderBy(e => PromptTemplateRules.FieldOrder(e.Key)).SelectMany(e => e.Value));
}

/// <summary>
/// The rules an edited template must follow before it is stored as a new version: a name, a non-empty user text with
/// exactly the placeholders its family's stage fills (the built-in template's), a system text without placeholders
/// (stages send it as written), and sizes a model can take. Pure functions.
/// </summary>
public static class PromptTemplateRules
{
    /// <summary>Longest name, in characters.</summary>
    public const int MaxNameLength = 200;

    /// <summary>Longest system or user text, in characters (a prompt template, not a document).</summary>
    public const int MaxTextLength = 100_000;

    /// <summary>
    /// The placeholders a stage fills for templates of <paramref name="key"/>: those of the built-in template, or, for
    /// a family that has no built-in (any more), those of <paramref name="fallbackUserText"/>.
    /// </summary>
    public static IReadOnlyList<string> RequiredPlaceholders(string key, string? fallbackUserText = null) =>
        PromptLibrary.BuiltInKeys.Contains(key, StringComparer.Ordinal)
            ? PromptLibrary.Get(key).Placeholders
            : PromptText.FindPlaceholders(fallbackUserText ?? "");

    /// <summary>Line endings as <c>\n</c> (a browser may send <c>\r\n</c>): the same prompt gets the same hash.</summary>
    public static string NormalizeText(string? text) =>
        (text ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');

    /// <summary>The stored system text: normalized, null when blank.</summary>
    public static string? NormalizeSystemText(string? text) => string.IsNullOrWhiteSpace(text) ? null : NormalizeText(text);

    /// <summary>The content hash a template with these texts has (the formula of <see cref="PromptText.ContentHash"/>).</summary>
    public static string ContentHash(string? systemText, string userText) =>
        new PromptText("", "", "", NormalizeSystemText(systemText), NormalizeText(userText)).ContentHash;

    /// <summary>Checks <paramref name="edit"/> as a new version of family <paramref name="key"/> whose stage fills <paramref name="required"/>.</summary>
    public static TemplateCheck Check(string key, IReadOnlyList<string> required, TemplateEdit edit)
    {
        ArgumentNullException.ThrowIfNull(required);
        ArgumentNullException.ThrowIfNull(edit);
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
            list.Add(message);
        }

        var name = edit.Name?.Trim() ?? "";
        if (name.Length == 0) Add("name", "name is required: say what this version changes.");
        else if (name.Length > MaxNameLength) Add("name", Invariant($"name must be at most {MaxNameLength} characters, not {name.Length:N0}."));

        var user = NormalizeText(edit.UserText);
        var system = NormalizeSystemText(edit.SystemText) ?? "";
        var placeholders = PromptText.FindPlaceholders(user);
        var missing = required.Where(p => !placeholders.Contains(p, StringComparer.Ordinal)).ToList();
        var unknown = placeholders.Where(p => !required.Contains(p, StringComparer.Ordinal)).ToList();
        if (string.IsNullOrWhiteSpace(user)) Add("userText", "userText is required: it is the message the model answers.");
        else
        {
            if (user.Length > MaxTextLength) Add("userText", Invariant($"userText must be at most {MaxTextLength:N0} characters, not {user.Length:N0}."));
            if (missing.Count > 0)
                Add("userText", $"userText lacks {List(missing)}: the {key} stage fills {List(required)}, and the model must see each of them.");
            if (unknown.Count > 0)
                Add("userText", $"userText has {List(unknown)}, which the {key} stage does not fill (it fills {(required.Count == 0 ? "no placeholders" : List(required))}); " +
                    "check the spelling, it is case-sensitive.");
        }
        if (system.Length > MaxTextLength) Add("systemText", Invariant($"systemText must be at most {MaxTextLength:N0} characters, not {system.Length:N0}."));
        if (PromptText.FindPlaceholders(system) is { Count: > 0 } inSystem)
            Add("systemText", $"systemText has {List(inSystem)}, but the system message is sent as written, without filling placeholders: move them to userText.");

        return new TemplateCheck(
            errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal),
            Warnings(key, system + "\n" + user), required, missing, unknown);
    }

    /// <summary>Sort key of a field in messages: name, system text, user text.</summary>
    internal static int FieldOrder(string field) => field switch { "name" => 0, "systemText" => 1, "userText" => 2, _ => 3 };

    private static string List(IEnumerable<string> placeholders) => string.Join(", ", placeholders.Select(p => "{" + p + "}"));

    // What each family's parser reads from the model's answer: a template that stops asking for it makes every output fail.
    private static readonly Dictionary<string, (string Label, Regex Pattern)[]> Expected = new(StringComparer.Ordinal)
    {
        [PromptLibrary.JudgePairwise] = [("[[A]]", Literal(VerdictParser.TokenA)), ("[[B]]", Literal(VerdictParser.TokenB))],
        [PromptLibrary.PairSynthesis] =
        [
            .. new[] { PairSynthesisParser.ModifiedInstructionMarker, PairSynthesisParser.ResponseStartMarker, PairSynthesisParser.ResponseEndMarker }
                .Select(m => (m, MarkedSections.PhraseRegex(m))),
        ],
        [PromptLibrary.WorseResponseRewrite] =
            [.. new[] { WorseRewriteParser.StartMarker, WorseRewriteParser.EndMarker }.Select(m => (m, MarkedSections.PhraseRegex(m)))],
        [PromptLibrary.InstructionAnalysis] =
            [.. new[] { "Category:", "Complexity:", "Length:" }.Select(m => (m, new Regex(Regex.Escape(m), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)))],
    };

    private static Regex Literal(string text) => new(Regex.Escape(text), RegexOptions.CultureInvariant);

    private static List<string> Warnings(string key, string text)
    {
        if (!Expected.TryGetValue(key, out var expected)) return [];
        var normalized = MarkedSections.NormalizeForMatching(text);
        var absent = expected.Where(e => !e.Pattern.IsMatch(normalized)).Select(e => e.Label).ToList();
        if (absent.Count == 0) return [];
        var what = key == PromptLibrary.JudgePairwise ? "the verdict parser reads" : "the parser of its output looks for";
        return [$"The text no longer mentions {string.Join(", ", absent.Select(a => $"“{a}”"))}, which {what}: unless the model writes it anyway, every output will fail to parse."];
    }
}
