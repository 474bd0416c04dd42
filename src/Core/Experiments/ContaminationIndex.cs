using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;

namespace SelfTaught.Core.Experiments;

/// <summary>A benchmark row an instruction matched, and how.</summary>
/// <param name="Kind">Exact normalized match, or a shared word n-gram.</param>
/// <param name="Match">The benchmark row: <c>dataset name / subset / id</c> (or row number when it has no id).</param>
public sealed record ContaminationHit(ContaminationKind Kind, string Match);

/// <summary>
/// The prompts of benchmark datasets, indexed for the contamination check of the select stage: an instruction is
/// contaminated when its normalized text equals a benchmark prompt's (<see cref="TextNormalizer.Normalize"/>) or when
/// the two share any word n-gram (default 13, as in GPT-3's and Llama's decontamination) after normalization.
/// <para>
/// Words are maximal runs of letters and digits of the normalized text. N-grams are kept as 64-bit FNV-1a hashes of
/// their words, in memory only; with millions of n-grams a false match has a probability below 10⁻⁵.
/// </para>
/// </summary>
public sealed class ContaminationIndex
{
    private readonly Dictionary<string, string> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, string> _ngrams = [];

    /// <summary>Creates an empty index for word n-grams of <paramref name="ngramSize"/> words.</summary>
    public ContaminationIndex(int ngramSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ngramSize, 1);
        NgramSize = ngramSize;
    }

    /// <summary>Words per n-gram.</summary>
    public int NgramSize { get; }

    /// <summary>Benchmark prompts added.</summary>
    public int PromptCount { get; private set; }

    /// <summary>Adds one benchmark prompt; the first row added wins when two share a text or an n-gram.</summary>
    public void Add(string prompt, string match)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(match);
        PromptCount++;
        var normalized = TextNormalizer.Normalize(prompt);
        if (normalized.Length == 0) return;
        _exact.TryAdd(normalized, match);
        foreach (var hash in NgramHashes(normalized, NgramSize)) _ngrams.TryAdd(hash, match);
    }

    /// <summary>The benchmark row <paramref name="instruction"/> matches, exact matches first; null when it is clean.</summary>
    public ContaminationHit? Check(string instruction)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        var normalized = TextNormalizer.Normalize(instruction);
        if (normalized.Length == 0) return null;
        if (_exact.TryGetValue(normalized, out var exact)) return new ContaminationHit(ContaminationKind.ExactMatch, exact);
        foreach (var hash in NgramHashes(normalized, NgramSize))
            if (_ngrams.TryGetValue(hash, out var match)) return new ContaminationHit(ContaminationKind.NGramOverlap, match);
        return null;
    }

    /// <summary>Hashes of every run of <paramref name="size"/> consecutive words of an already normalized text.</summary>
    public static IEnumerable<ulong> NgramHashes(string normalized, int size)
    {
        ArgumentNullException.ThrowIfNull(normalized);
        var words = Words(normalized);
        for (var start = 0; start + size <= words.Count; start++)
        {
            var hash = 14695981039346656037UL;
            for (var w = start; w < start + size; w++)
            {
                var (offset, length) = words[w];
                foreach (var c in normalized.AsSpan(offset, length))
                {
                    hash = (hash ^ c) * 1099511628211UL;
                }
                hash = (hash ^ ' ') * 1099511628211UL; // word separator, so "ab c" and "a bc" differ
            }
            yield return hash;
        }
    }

    private static List<(int Offset, int Length)> Words(string text)
    {
        var words = new List<(int, int)>();
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var isWord = i < text.Length && (char.IsLetterOrDigit(text[i]) || char.IsSurrogate(text[i]));
            if (isWord && start < 0) start = i;
            else if (!isWord && start >= 0)
            {
                words.Add((start, i - start));
                start = -1;
            }
        }
        return words;
    }
}
