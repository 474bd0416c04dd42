using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace SelfTaught.Core.Prompts;

/// <summary>A prompt template: header fields and a body with <c>{placeholder}</c>s.</summary>
/// <param name="Key">Template family, e.g. <c>instruction-analysis</c>.</param>
/// <param name="Name">Human-readable name.</param>
/// <param name="Source">Where the text comes from (paper figure).</param>
/// <param name="SystemText">System message, if the template has one.</param>
/// <param name="UserText">User message with placeholders.</param>
public sealed record PromptText(string Key, string Name, string Source, string? SystemText, string UserText)
{
    /// <summary>SHA-256 (hex) of system and user text: two versions with the same hash are the same prompt.</summary>
    public string ContentHash { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((SystemText ?? "") + "\u0000" + UserText)));

    /// <summary>
    /// Fills <c>{name}</c> placeholders in one pass, so text inside a value (an instruction containing "{response A}")
    /// is never substituted again.
    /// </summary>
    /// <exception cref="ArgumentException">A placeholder of the template has no value.</exception>
    public static string Render(string template, IReadOnlyDictionary<string, string> values)
    {
        var result = new StringBuilder(template.Length + values.Values.Sum(v => v.Length));
        var i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('{', i);
            var close = open < 0 ? -1 : template.IndexOf('}', open + 1);
            if (open < 0 || close < 0)
            {
                result.Append(template, i, template.Length - i);
                break;
            }
            var name = template[(open + 1)..close];
            result.Append(template, i, open - i);
            if (values.TryGetValue(name, out var value)) result.Append(value);
            else if (IsPlaceholderName(name))
                throw new ArgumentException($"The template needs a value for {{{name}}}.", nameof(values));
            else result.Append(template, open, close - open + 1);
            i = close + 1;
        }
        return result.ToString();
    }

    /// <summary>Names of the placeholders of system and user text, in order of first appearance.</summary>
    public IReadOnlyList<string> Placeholders => [.. FindPlaceholders(SystemText ?? "").Concat(FindPlaceholders(UserText)).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// The distinct <c>{name}</c> placeholders of <paramref name="template"/>, found by the same rule as <see cref="Render"/>
    /// (a name of letters, spaces, <c>_</c> or <c>'</c>, at most 40 characters), so JSON braces are not placeholders.
    /// </summary>
    public static IReadOnlyList<string> FindPlaceholders(string template)
    {
        var names = new List<string>();
        var i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('{', i);
            var close = open < 0 ? -1 : template.IndexOf('}', open + 1);
            if (close < 0) break;
            var name = template[(open + 1)..close];
            if (IsPlaceholderName(name) && !names.Contains(name, StringComparer.Ordinal)) names.Add(name);
            i = close + 1;
        }
        return names;
    }

    private static bool IsPlaceholderName(string name) =>
        name.Length > 0 && name.Length <= 40 && name.All(c => char.IsLetter(c) || c is ' ' or '_' or '\'');
}

/// <summary>The built-in prompt templates, embedded in Core as <c>Prompts/*.prompt</c> files.</summary>
/// <remarks>
/// File format: header lines <c># key: value</c> (key, name, source), a line <c>---</c>, then the user message; an
/// optional system message comes first, ended by a line <c>=== user ===</c>.
/// </remarks>
public static class PromptLibrary
{
    /// <summary>Key of the paper's Fig. 7 instruction-analysis template.</summary>
    public const string InstructionAnalysis = "instruction-analysis";

    /// <summary>Key of the plain response-generation template (y_w, paper §3.3: the instruction alone).</summary>
    public const string ResponseGeneration = "response-generation";

    /// <summary>Key of the paper's Fig. 2 modified-instruction template (x′ and y_l); parsed by <see cref="PairSynthesisParser"/>.</summary>
    public const string PairSynthesis = "pair-synthesis";

    /// <summary>Key of the paper's Fig. 10 worse-response rewrite template (ablation); parsed by <see cref="WorseRewriteParser"/>.</summary>
    public const string WorseResponseRewrite = "worse-response-rewrite";

    /// <summary>Key of the paper's Fig. 8 pairwise judge template (MT-Bench/RewardBench, no tie); parsed by <see cref="VerdictParser"/>.</summary>
    public const string JudgePairwise = "judge-pairwise";

    /// <summary>Keys of every built-in template.</summary>
    public static IReadOnlyList<string> BuiltInKeys { get; } = [InstructionAnalysis, ResponseGeneration, PairSynthesis, WorseResponseRewrite, JudgePairwise];

    private static readonly ConcurrentDictionary<string, PromptText> Cache = new();

    /// <summary>The built-in template <paramref name="key"/>.</summary>
    public static PromptText Get(string key) => Cache.GetOrAdd(key, Load);

    /// <summary>Every built-in template.</summary>
    public static IReadOnlyList<PromptText> All() =>
        [.. typeof(PromptLibrary).Assembly.GetManifestResourceNames()
            .Where(n => n.EndsWith(".prompt", StringComparison.Ordinal))
            .Select(n => Get(n[(n.LastIndexOf(".Prompts.", StringComparison.Ordinal) + 9)..^7]))];

    /// <summary>Parses the text of a <c>.prompt</c> file.</summary>
    public static PromptText Parse(string text)
    {
        text = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        var split = text.IndexOf("\n---\n", StringComparison.Ordinal);
        if (split < 0) throw new FormatException("A prompt file needs header lines, then a line '---'.");
        var header = text[..split].Split('\n')
            .Where(l => l.StartsWith('#'))
            .Select(l => l.TrimStart('#').Trim().Split(':', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = text[(split + 5)..].TrimEnd('\n');
        string? system = null;
        var marker = body.IndexOf("\n=== user ===\n", StringComparison.Ordinal);
        if (marker >= 0)
        {
            system = body[..marker];
            body = body[(marker + 14)..];
        }
        return new PromptText(Required(header, "key"), Required(header, "name"), Required(header, "source"), system, body);
    }

    private static string Required(Dictionary<string, string> header, string name) =>
        header.TryGetValue(name, out var value) && value.Length > 0 ? value : throw new FormatException($"The prompt header has no '{name}'.");

    private static PromptText Load(string key)
    {
        var assembly = typeof(PromptLibrary).Assembly;
        var resource = assembly.GetManifestResourceNames().SingleOrDefault(n => n.EndsWith($".Prompts.{key}.prompt", StringComparison.Ordinal))
            ?? throw new KeyNotFoundException($"No built-in prompt template '{key}'.");
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Parse(reader.ReadToEnd());
    }
}
