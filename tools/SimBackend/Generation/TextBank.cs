using System.Text.RegularExpressions;

namespace SelfTaught.SimBackend.Generation;

/// <summary>Phrases and heuristics the generator composes answers from.</summary>
internal static partial class TextBank
{
    public static readonly string[] Openings =
    [
        "Here is an answer about {0}.",
        "Let me address your question on {0}.",
        "Good question about {0}.",
        "This answer looks at {0} step by step.",
        "Below is an overview of {0}.",
    ];

    public static readonly string[] Sentences =
    [
        "The short answer is that {0} mainly depends on the context in which it is used.",
        "To understand {0}, it helps to look at how it relates to {1}.",
        "A common approach is to start with {0} and then refine the details step by step.",
        "In practice, {0} and {1} are often considered together.",
        "One important point is that {0} can be misunderstood if the assumptions are not stated clearly.",
        "For example, when dealing with {0}, you would first identify the goal and the constraints.",
        "It is also worth checking whether {1} changes the overall picture.",
        "Many people find it useful to compare several options for {0} before deciding.",
        "The main trade-off is between simplicity and completeness.",
        "If more detail is needed, the next step is to examine {1} more closely.",
        "Overall, {0} is best handled by being explicit about what is known and what is not.",
        "A quick check of the result helps to catch mistakes early.",
        "Keep in mind that {1} may behave differently in edge cases.",
        "This is why a structured explanation of {0} is usually more helpful than a long list of facts.",
        "Next, look at how {0} interacts with {1}.",
        "Finally, summarize the findings in a sentence or two so they are easy to act on.",
        "A concrete example makes the idea of {0} much easier to follow.",
        "Experts usually recommend writing down the reasoning behind each decision about {1}.",
        "Small changes to {0} can have surprisingly large effects.",
        "When in doubt, test the simplest version of {0} first.",
    ];

    public static readonly string[] ModifiedInstructions =
    [
        "What is the history of {0}?",
        "Describe the main disadvantages of {0}.",
        "Write a short poem about {0}.",
        "Explain {0} to a five-year-old without mentioning {1}.",
        "List common misconceptions about {1}.",
        "Give a general overview of {0} without any concrete steps.",
        "How would a critic argue against {0}?",
        "Summarize the public debate around {1}.",
    ];

    public static readonly string[] UnhelpfulSentences =
    [
        "It is hard to say anything definite here.",
        "This may or may not apply, depending on many factors.",
        "Some of this is probably not relevant anyway.",
        "There are many opinions on this, and all of them are valid in some way.",
    ];

    public static readonly string[] WorseAspects =
    [
        "less helpful and less coherent",
        "incorrect in places and more verbose",
        "unhelpful and vague",
        "less coherent",
    ];

    public static readonly string[] WinnerRemarks =
    [
        "addresses what the user actually asked, directly and with relevant detail",
        "is accurate, well organized and follows the instructions closely",
        "stays on topic and gives a clear, complete explanation",
        "answers the question itself and explains the key points correctly",
    ];

    public static readonly string[] LoserRemarks =
    [
        "drifts toward a related but different question and misses the user's intent",
        "is less relevant: much of it does not answer the question as asked",
        "is vaguer and leaves out details the user needs",
        "contains statements that are not well supported and is less coherent",
    ];

    public static readonly string[] JudgeClosings =
    [
        "Overall, Assistant {W} follows the user's instructions better and answers the question more helpfully.",
        "Taking helpfulness, relevance, accuracy and level of detail into account, Assistant {W} is better.",
        "Length and position did not influence this decision; Assistant {W} gives the more useful answer.",
    ];

    private static readonly HashSet<string> Stopwords = new(StringComparer.Ordinal)
    {
        "about", "above", "after", "again", "also", "because", "been", "before", "being", "below", "between", "both",
        "could", "does", "doing", "down", "during", "each", "explain", "from", "further", "give", "have", "having",
        "here", "into", "just", "like", "make", "more", "most", "much", "only", "other", "over", "please", "same",
        "should", "some", "such", "tell", "than", "that", "their", "them", "then", "there", "these", "they", "this",
        "those", "through", "under", "until", "very", "want", "what", "when", "where", "which", "while", "with",
        "would", "write", "your", "yours", "describe", "following", "answer", "question", "mentioning", "without",
        "many", "total", "works", "work", "thing", "things", "using", "need", "help", "know", "best", "good", "list",
        "three", "four", "five", "seven", "eight", "nine", "twenty", "hundred", "thousand", "someone", "something",
        "provide", "create", "show", "find", "will", "shall", "must", "might", "able", "these", "every", "another",
    };

    /// <summary>Up to four distinct content words of an instruction (never empty).</summary>
    public static IReadOnlyList<string> Keywords(string instruction)
    {
        var words = SimText.Words(instruction)
            .Where(w => w.Length >= 4 && !Stopwords.Contains(w) && !w.All(char.IsDigit))
            .Distinct(StringComparer.Ordinal)
            .Take(8)
            .OrderByDescending(w => w.Length) // longer words are more often the subject
            .Take(4)
            .ToList();
        if (words.Count == 0) words.Add("the topic");
        if (words.Count == 1) words.Add("the details");
        return words;
    }

    /// <summary>Fills <c>{0}</c> and <c>{1}</c> with keywords (choosing the pair with the random stream).</summary>
    public static string Fill(string template, IReadOnlyList<string> keywords, SimRandom rng)
    {
        // The main keyword most of the time, another one sometimes.
        var first = rng.Chance(0.6) ? 0 : rng.Next(keywords.Count);
        var second = (first + 1 + rng.Next(keywords.Count - 1)) % keywords.Count;
        return template
            .Replace("{0}", keywords[first], StringComparison.Ordinal)
            .Replace("{1}", keywords[second], StringComparison.Ordinal);
    }

    public static List<string> Sentencize(string text) =>
        SentenceRegex().Matches(text).Select(m => m.Value.Trim()).Where(s => s.Length > 0).ToList();

    // The categories of paper Fig. 7, each with cue words (checked in this order).
    private static readonly (string Category, string[] Cues)[] CategoryCues =
    [
        ("Coding", ["code", "function", "python", "java", "javascript", "program", "script", "sql", "bug", "compile", "regex", "algorithm", "c++", "c#", "html", "api"]),
        ("Mathematical reasoning", ["calculate", "solve", "equation", "math", "percent", "percentage", "probability", "integral", "derivative", "sum of", "how many", "average"]),
        ("Summarization", ["summarize", "summary", "tl;dr", "key points of"]),
        ("Rewriting", ["rewrite", "paraphrase", "rephrase", "translate", "proofread", "improve this", "edit this"]),
        ("Extraction", ["extract", "list all", "find all", "pull out"]),
        ("Classification", ["classify", "categorize", "which category", "is this positive", "sentiment"]),
        ("Creative Writing", ["poem", "story", "lyrics", "song", "fiction", "haiku", "screenplay"]),
        ("Inhabiting a Character/Persona", ["pretend", "act as", "roleplay", "role-play", "you are a", "in the voice of"]),
        ("Brainstorming", ["ideas", "brainstorm", "suggest names", "come up with"]),
        ("Asking for Advice", ["should i", "advice", "recommend", "tips", "how can i", "how do i"]),
        ("Humanity, History or Social Studies", ["history", "historical", "war", "century", "society", "politics", "political", "culture", "empire", "civilization", "revolution"]),
        ("Closed Question Answering", ["who is", "who was", "when did", "what year", "capital of", "how tall", "how old"]),
        ("Knowledge and Reasoning", ["why", "explain", "reason", "compare", "difference between", "cause"]),
        ("Open Question Answering", ["what", "how", "which"]),
    ];

    // Cues match whole words only ("story" must not match "history").
    private static readonly (string Category, Regex Pattern)[] CategoryPatterns = CategoryCues
        .Select(c => (c.Category, new Regex(
            @"(?<![\p{L}\p{N}])(?:" + string.Join('|', c.Cues.Select(Regex.Escape)) + @")(?![\p{L}\p{N}])",
            RegexOptions.CultureInvariant)))
        .ToArray();

    /// <summary>Category, complexity (1–10) and length letter (a–e) of an instruction, from cue words and its size.</summary>
    public static (string Category, int Complexity, char Length) Analyze(string instruction)
    {
        var text = SimText.Normalize(instruction).ToLowerInvariant();
        var category = CategoryPatterns.FirstOrDefault(c => c.Pattern.IsMatch(text)).Category ?? "Other";
        var words = SimTokenizer.CountTokens(instruction);
        var baseComplexity = category switch
        {
            "Coding" or "Mathematical reasoning" or "Knowledge and Reasoning" => 6,
            "Closed Question Answering" or "Classification" or "Extraction" => 2,
            _ => 4,
        };
        var jitter = (int)(SimRandom.From("complexity", instruction).NextUInt64() % 3) - 1;
        var complexity = Math.Clamp(baseComplexity + words / 40 + jitter, 1, 10);
        var length = complexity switch { <= 2 => 'b', <= 4 => 'c', <= 7 => 'd', _ => 'e' };
        if (category == "Closed Question Answering" && complexity <= 2) length = 'a';
        return (category, complexity, length);
    }

    [GeneratedRegex(@"[^.!?]+[.!?]+|[^.!?]+$")]
    private static partial Regex SentenceRegex();
}
