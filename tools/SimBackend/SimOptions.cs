using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace SelfTaught.SimBackend;

/// <summary>How the server answers a chat request with <c>n</c> &gt; 1.</summary>
public enum SimNMode
{
    /// <summary>Return n distinct choices, as OpenAI, vLLM and SGLang do.</summary>
    Supported,

    /// <summary>Answer HTTP 500, as llama.cpp's server does.</summary>
    Reject500,
}

/// <summary>
/// Behaviour of the simulated server. Bound from the configuration section <c>SimBackend</c> (or the command line).
/// Every property may be changed while the server runs (each access is thread-safe; a request reads one consistent
/// snapshot when it arrives). Replace collections instead of mutating them.
/// </summary>
public sealed class SimOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "SimBackend";

    /// <summary>Port used by the command line when none is given.</summary>
    public const int DefaultCommandLinePort = 5099;

    private readonly Lock _gate = new();
    private string _host = "127.0.0.1";
    private int _port;
    private IReadOnlyList<string> _models = ["sim-judge", "sim-generator"];
    private bool _acceptAnyModel;
    private long _seed;
    private double _judgeAccuracy = 0.8;
    private IReadOnlyDictionary<string, double> _judgeAccuracyByModel = new Dictionary<string, double>();
    private double _malformedRate;
    private double _unbracketedMarkerRate;
    private double _latencyMs;
    private double _perTokenMs;
    private SimNMode _nMode = SimNMode.Supported;
    private double _rate429;
    private double _rate500;
    private double _rateTimeout;
    private double _rateDropConnection;
    private double _rateInvalidJson;
    private int _retryAfterSeconds = 1;
    private bool _greedyAtZeroTemperature;
    private int _answerMinWords = 40;
    private int _answerMaxWords = 160;
    private int _maxRecordedRequests = 1_000;
    private string? _requiredApiKey;
    private string _ollamaVersion = "0.11.4";
    private double _mathAccuracy = 0.5;
    private IReadOnlyDictionary<string, string> _mathAnswerKey = new Dictionary<string, string>();
    private string? _mathAnswerKeyFile;

    /// <summary>Interface to listen on. Default <c>127.0.0.1</c>; <c>localhost</c>, <c>0.0.0.0</c>, <c>::</c> and IP addresses work.</summary>
    public string Host { get => Get(ref _host); set => Set(ref _host, Required(value, nameof(Host))); }

    /// <summary>Port to listen on. Default 0 = a free port (in-process); the command line defaults to 5099.</summary>
    public int Port { get => Get(ref _port); set => Set(ref _port, InRange(value, 0, 65535, nameof(Port))); }

    /// <summary>Models the server serves. Default <c>sim-judge</c>, <c>sim-generator</c>. Ollama-style <c>:latest</c> is implied.</summary>
    public IReadOnlyList<string> Models
    {
        get => Get(ref _models);
        set
        {
            var models = (value ?? throw new ArgumentNullException(nameof(value)))
                .Select(m => m.Trim()).Where(m => m.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
            if (models.Length == 0) throw new ArgumentException($"{SectionName}:{nameof(Models)} must name at least one model.", nameof(value));
            Set(ref _models, models);
        }
    }

    /// <summary>Serve any model name instead of answering 404 for unknown ones. Default false.</summary>
    public bool AcceptAnyModel { get => Get(ref _acceptAnyModel); set => Set(ref _acceptAnyModel, value); }

    /// <summary>Server seed mixed into every generated text and random decision. Default 0.</summary>
    public long Seed { get => Get(ref _seed); set => Set(ref _seed, value); }

    /// <summary>
    /// Probability that a pairwise judgment of a pair containing one of the server's own (marked) worse answers picks
    /// the better answer. Pairs it did not synthesize get a seeded coin flip. Default 0.8.
    /// </summary>
    public double JudgeAccuracy { get => Get(ref _judgeAccuracy); set => Set(ref _judgeAccuracy, Probability(value, nameof(JudgeAccuracy))); }

    /// <summary>Per-model override of <see cref="JudgeAccuracy"/> (e.g. a better judge for a later iteration). Default empty.</summary>
    public IReadOnlyDictionary<string, double> JudgeAccuracyByModel
    {
        get => Get(ref _judgeAccuracyByModel);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            foreach (var (model, p) in value) Probability(p, $"{nameof(JudgeAccuracyByModel)}:{model}");
            Set(ref _judgeAccuracyByModel, new Dictionary<string, double>(value, StringComparer.Ordinal));
        }
    }

    /// <summary>
    /// Share of structured answers (judgments, pair synthesis, rewrites, instruction analysis) that are malformed:
    /// no verdict, both verdicts or <c>[[C]]</c>; missing markers; a missing analysis line. Default 0.
    /// </summary>
    public double MalformedRate { get => Get(ref _malformedRate); set => Set(ref _malformedRate, Probability(value, nameof(MalformedRate))); }

    /// <summary>Share of pair-synthesis and rewrite answers whose markers come without square brackets (still parseable). Default 0.</summary>
    public double UnbracketedMarkerRate { get => Get(ref _unbracketedMarkerRate); set => Set(ref _unbracketedMarkerRate, Probability(value, nameof(UnbracketedMarkerRate))); }

    /// <summary>Fixed delay per chat response (time to first token), in milliseconds. Default 0.</summary>
    public double LatencyMs { get => Get(ref _latencyMs); set => Set(ref _latencyMs, NonNegative(value, nameof(LatencyMs))); }

    /// <summary>Additional delay per completion token, in milliseconds. Default 0.</summary>
    public double PerTokenMs { get => Get(ref _perTokenMs); set => Set(ref _perTokenMs, NonNegative(value, nameof(PerTokenMs))); }

    /// <summary>Answer to <c>n</c> &gt; 1 (OpenAI protocol). Default <see cref="SimNMode.Supported"/>.</summary>
    public SimNMode NMode { get => Get(ref _nMode); set => Set(ref _nMode, value); }

    /// <summary>Probability that a chat request gets HTTP 429 with <c>Retry-After</c>. Default 0.</summary>
    public double Rate429 { get => Get(ref _rate429); set => Set(ref _rate429, Probability(value, nameof(Rate429))); }

    /// <summary>Probability that a chat request gets HTTP 500. Default 0.</summary>
    public double Rate500 { get => Get(ref _rate500); set => Set(ref _rate500, Probability(value, nameof(Rate500))); }

    /// <summary>Probability that a chat request hangs until the client gives up. Default 0.</summary>
    public double RateTimeout { get => Get(ref _rateTimeout); set => Set(ref _rateTimeout, Probability(value, nameof(RateTimeout))); }

    /// <summary>Probability that a chat response is cut off by aborting the connection. Default 0.</summary>
    public double RateDropConnection { get => Get(ref _rateDropConnection); set => Set(ref _rateDropConnection, Probability(value, nameof(RateDropConnection))); }

    /// <summary>Probability that a chat request gets HTTP 200 with a body that is not valid JSON. Default 0.</summary>
    public double RateInvalidJson { get => Get(ref _rateInvalidJson); set => Set(ref _rateInvalidJson, Probability(value, nameof(RateInvalidJson))); }

    /// <summary>Value of the <c>Retry-After</c> header (seconds) sent with 429 answers. Default 1.</summary>
    public int RetryAfterSeconds { get => Get(ref _retryAfterSeconds); set => Set(ref _retryAfterSeconds, InRange(value, 0, 86_400, nameof(RetryAfterSeconds))); }

    /// <summary>
    /// When true, <c>temperature: 0</c> ignores the seed and choice index (greedy decoding: every sample identical).
    /// Default false.
    /// </summary>
    public bool GreedyAtZeroTemperature { get => Get(ref _greedyAtZeroTemperature); set => Set(ref _greedyAtZeroTemperature, value); }

    /// <summary>Shortest answer to a plain instruction, in words. Default 40.</summary>
    public int AnswerMinWords { get => Get(ref _answerMinWords); set => Set(ref _answerMinWords, InRange(value, 1, 100_000, nameof(AnswerMinWords))); }

    /// <summary>Longest answer to a plain instruction, in words (at least <see cref="AnswerMinWords"/>). Default 160.</summary>
    public int AnswerMaxWords { get => Get(ref _answerMaxWords); set => Set(ref _answerMaxWords, InRange(value, 1, 100_000, nameof(AnswerMaxWords))); }

    /// <summary>How many received requests (with bodies) the statistics keep, oldest dropped first; counts are unaffected. Default 1,000.</summary>
    public int MaxRecordedRequests { get => Get(ref _maxRecordedRequests); set => Set(ref _maxRecordedRequests, InRange(value, 0, 10_000_000, nameof(MaxRecordedRequests))); }

    /// <summary>When set, chat and model-list requests must carry <c>Authorization: Bearer &lt;key&gt;</c> (else 401). Default none.</summary>
    public string? RequiredApiKey { get => Get(ref _requiredApiKey); set => Set(ref _requiredApiKey, string.IsNullOrEmpty(value) ? null : value); }

    /// <summary>Version reported by <c>/api/version</c>. Default <c>0.11.4</c>.</summary>
    public string OllamaVersion { get => Get(ref _ollamaVersion); set => Set(ref _ollamaVersion, Required(value, nameof(OllamaVersion))); }

    /// <summary>
    /// Probability that an answer to a question of <see cref="MathAnswerKey"/> ends with the right <c>#### n</c>; otherwise
    /// it ends with a wrong number. Default 0.5. The simulator does not solve anything: it only knows the key it is given.
    /// </summary>
    public double MathAccuracy { get => Get(ref _mathAccuracy); set => Set(ref _mathAccuracy, Probability(value, nameof(MathAccuracy))); }

    /// <summary>
    /// Answer key of math questions (question text → final answer, e.g. from GSM8K): a plain prompt whose text equals a
    /// question (after quotes and whitespace are normalized) gets a worked answer ending <c>#### n</c>, right with
    /// probability <see cref="MathAccuracy"/>. In-process only (not a configuration key); see <see cref="MathAnswerKeyFile"/>.
    /// Default empty.
    /// </summary>
    public IReadOnlyDictionary<string, string> MathAnswerKey
    {
        get => Get(ref _mathAnswerKey);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            Set(ref _mathAnswerKey, value.ToDictionary(kv => Generation.SimText.Normalize(kv.Key), kv => kv.Value.Trim(), StringComparer.Ordinal));
        }
    }

    /// <summary>
    /// A JSON-lines file in GSM8K's format (<c>question</c>, <c>answer</c> ending <c>#### n</c>) loaded into
    /// <see cref="MathAnswerKey"/> when set. Default none.
    /// </summary>
    public string? MathAnswerKeyFile
    {
        get => Get(ref _mathAnswerKeyFile);
        set
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                Set(ref _mathAnswerKeyFile, null);
                return;
            }
            MathAnswerKey = LoadAnswerKey(value);
            Set(ref _mathAnswerKeyFile, value);
        }
    }

    /// <summary>Reads a GSM8K-style JSON-lines file into question → final answer (the text after the last <c>####</c>).</summary>
    /// <exception cref="ArgumentException">The file cannot be read or a line is not such an object; the message names the key.</exception>
    public static IReadOnlyDictionary<string, string> LoadAnswerKey(string path)
    {
        var key = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var line = 0;
            foreach (var text in File.ReadLines(path))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                using var row = System.Text.Json.JsonDocument.Parse(text);
                var question = row.RootElement.GetProperty("question").GetString();
                var answer = row.RootElement.GetProperty("answer").GetString();
                var marker = answer?.LastIndexOf("####", StringComparison.Ordinal) ?? -1;
                if (question is null || answer is null || marker < 0)
                    throw new FormatException($"line {line} has no question, or no answer ending '#### n'");
                key[question] = answer[(marker + 4)..].Trim();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ArgumentException($"{SectionName}:{nameof(MathAnswerKeyFile)} '{path}' cannot be read as GSM8K JSON lines: {e.Message}", e);
        }
        return key;
    }

    /// <summary>Judge accuracy for a model: the per-model override if any, else <see cref="JudgeAccuracy"/>.</summary>
    public double JudgeAccuracyFor(string model)
    {
        lock (_gate)
        {
            return _judgeAccuracyByModel.TryGetValue(model, out var p) || _judgeAccuracyByModel.TryGetValue(SimModels.BaseName(model), out p)
                ? p
                : _judgeAccuracy;
        }
    }

    /// <summary>
    /// Simulated generation time of a response with <paramref name="completionTokens"/> tokens:
    /// <see cref="LatencyMs"/> + <see cref="PerTokenMs"/> × tokens. Grows with the response length.
    /// </summary>
    public TimeSpan ComputeResponseDelay(int completionTokens)
    {
        lock (_gate) return ComputeDelay(_latencyMs, _perTokenMs, completionTokens);
    }

    internal static TimeSpan ComputeDelay(double latencyMs, double perTokenMs, int completionTokens) =>
        TimeSpan.FromMilliseconds(latencyMs + perTokenMs * Math.Max(0, completionTokens));

    /// <summary>A consistent copy of all values (what one request sees).</summary>
    public SimOptions Clone()
    {
        var copy = new SimOptions();
        lock (_gate) copy.CopyFrom(this);
        return copy;
    }

    private void CopyFrom(SimOptions o)
    {
        _host = o._host; _port = o._port; _models = o._models; _acceptAnyModel = o._acceptAnyModel; _seed = o._seed;
        _judgeAccuracy = o._judgeAccuracy; _judgeAccuracyByModel = o._judgeAccuracyByModel; _malformedRate = o._malformedRate;
        _unbracketedMarkerRate = o._unbracketedMarkerRate; _latencyMs = o._latencyMs; _perTokenMs = o._perTokenMs;
        _nMode = o._nMode; _rate429 = o._rate429; _rate500 = o._rate500; _rateTimeout = o._rateTimeout;
        _rateDropConnection = o._rateDropConnection; _rateInvalidJson = o._rateInvalidJson;
        _retryAfterSeconds = o._retryAfterSeconds; _greedyAtZeroTemperature = o._greedyAtZeroTemperature;
        _answerMinWords = o._answerMinWords; _answerMaxWords = o._answerMaxWords;
        _maxRecordedRequests = o._maxRecordedRequests; _requiredApiKey = o._requiredApiKey; _ollamaVersion = o._ollamaVersion;
        _mathAccuracy = o._mathAccuracy; _mathAnswerKey = o._mathAnswerKey; _mathAnswerKeyFile = o._mathAnswerKeyFile;
    }

    /// <summary>Checks values that depend on each other; throws <see cref="ArgumentException"/> naming the key.</summary>
    public void Validate()
    {
        lock (_gate)
        {
            if (_answerMaxWords < _answerMinWords)
            {
                throw new ArgumentException(
                    $"{SectionName}:{nameof(AnswerMaxWords)} ({_answerMaxWords}) must be at least {SectionName}:{nameof(AnswerMinWords)} ({_answerMinWords}).");
            }
        }
    }

    /// <summary>
    /// Binds options from a configuration section (usually <c>SimBackend</c>). <c>Models</c> may be a comma-separated
    /// string or a list; unknown keys fail with their name.
    /// </summary>
    public static SimOptions FromConfiguration(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = new SimOptions();
        var models = section.GetSection(nameof(Models));
        var accuracyByModel = section.GetSection(nameof(JudgeAccuracyByModel));
        foreach (var child in section.GetChildren())
        {
            if (child.Key.Equals(nameof(Models), StringComparison.OrdinalIgnoreCase)
                || child.Key.Equals(nameof(JudgeAccuracyByModel), StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var property = typeof(SimOptions).GetProperty(child.Key,
                System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
            if (property is null || !property.CanWrite || property.Name == nameof(MathAnswerKey))
            {
                throw new ArgumentException($"Unknown setting {SectionName}:{child.Key}. Known settings: {string.Join(", ", SettingNames)}.");
            }

            try
            {
                property.SetValue(options, ConvertValue(child.Value, property.PropertyType, child.Key));
            }
            catch (System.Reflection.TargetInvocationException e) when (e.InnerException is ArgumentException inner)
            {
                throw inner;
            }
        }

        if (models.Value is { } csv)
        {
            options.Models = csv.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        else if (models.GetChildren().Any())
        {
            options.Models = models.GetChildren().Select(c => c.Value ?? "").ToArray();
        }

        if (accuracyByModel.Value is { } pairs)
        {
            // "model=0.9,other=0.7"
            options.JudgeAccuracyByModel = pairs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(p => p.Split('=', 2, StringSplitOptions.TrimEntries))
                .ToDictionary(p => p[0], p => (double)ConvertValue(p.Length == 2 ? p[1] : null, typeof(double), $"{nameof(JudgeAccuracyByModel)}:{p[0]}")!);
        }
        else if (accuracyByModel.GetChildren().Any())
        {
            // Flattened relative paths keep model names with a tag ("llama3:8b") whole.
            options.JudgeAccuracyByModel = accuracyByModel.AsEnumerable(makePathsRelative: true)
                .Where(kv => kv.Value is not null)
                .ToDictionary(kv => kv.Key, kv => (double)ConvertValue(kv.Value, typeof(double), $"{nameof(JudgeAccuracyByModel)}:{kv.Key}")!);
        }

        options.Validate();
        return options;
    }

    /// <summary>Names of the scalar settings (configuration keys below <c>SimBackend</c>).</summary>
    public static IReadOnlyList<string> SettingNames { get; } = typeof(SimOptions).GetProperties()
        .Where(p => p.CanWrite && p.Name != nameof(MathAnswerKey)).Select(p => p.Name).ToArray();

    private static object? ConvertValue(string? value, Type type, string key)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        try
        {
            if (value is null or "") return type == typeof(string) ? null : throw new FormatException("empty value");
            if (target == typeof(string)) return value;
            if (target.IsEnum) return Enum.Parse(target, value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true);
            if (target == typeof(bool)) return bool.Parse(value);
            return Convert.ChangeType(value, target, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or ArgumentException)
        {
            var expected = target.IsEnum ? string.Join(" | ", Enum.GetNames(target)) : target.Name;
            throw new ArgumentException($"Invalid value '{value}' for {SectionName}:{key} (expected {expected}).", e);
        }
    }

    private T Get<T>(ref T field)
    {
        lock (_gate) return field;
    }

    private void Set<T>(ref T field, T value)
    {
        lock (_gate) field = value;
    }

    private static double Probability(double value, string name) =>
        double.IsFinite(value) && value is >= 0 and <= 1
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{SectionName}:{name} must be between 0 and 1.");

    private static double NonNegative(double value, string name) =>
        double.IsFinite(value) && value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{SectionName}:{name} must be a number >= 0.");

    private static int InRange(int value, int min, int max, string name) =>
        value >= min && value <= max
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{SectionName}:{name} must be between {min} and {max}.");

    private static string Required(string? value, string name) =>
        string.IsNullOrWhiteSpace(value)
            ? throw new ArgumentException($"{SectionName}:{name} must not be empty.", name)
            : value.Trim();
}
