using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace SelfTaught.SimBackend;

/// <summary>
/// Command line of the standalone server: <c>--kebab-case value</c> (or <c>--name=value</c>) for every setting of
/// <see cref="SimOptions"/>; values are layered over <c>appsettings.json</c> and environment variables
/// (<c>SimBackend__JudgeAccuracy</c>), section <c>SimBackend</c>.
/// </summary>
internal static class SimCommandLine
{
    /// <summary>Switch aliases besides the kebab-case form of each setting name.</summary>
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["error-rate-429"] = nameof(SimOptions.Rate429),
        ["error-rate-500"] = nameof(SimOptions.Rate500),
        ["timeout-rate"] = nameof(SimOptions.RateTimeout),
        ["drop-rate"] = nameof(SimOptions.RateDropConnection),
        ["invalid-json-rate"] = nameof(SimOptions.RateInvalidJson),
        ["api-key"] = nameof(SimOptions.RequiredApiKey),
    };

    /// <summary>Builds the options, or returns null and an error/usage text.</summary>
    public static (SimOptions? Options, string? Message) Parse(string[] args, IEnumerable<KeyValuePair<string, string?>>? baseSettings = null)
    {
        var switches = SimOptions.SettingNames.ToDictionary(Kebab, n => n, StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, name) in Aliases) switches[alias] = name;

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help" or "-?") return (null, Usage());
            if (!arg.StartsWith("--", StringComparison.Ordinal)) return (null, $"Unexpected argument '{arg}'.\n\n{Usage()}");
            var (name, value) = arg.IndexOf('=', StringComparison.Ordinal) is var eq and > 0
                ? (arg[2..eq], arg[(eq + 1)..])
                : (arg[2..], i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true");
            if (!switches.TryGetValue(name, out var setting)) return (null, $"Unknown option '--{name}'.\n\n{Usage()}");
            values[$"{SimOptions.SectionName}:{setting}"] = value;
        }

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(baseSettings ?? [])
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(values)
            .Build();

        try
        {
            var options = SimOptions.FromConfiguration(configuration.GetSection(SimOptions.SectionName));
            if (configuration[$"{SimOptions.SectionName}:{nameof(SimOptions.Port)}"] is null) options.Port = SimOptions.DefaultCommandLinePort;
            return (options, null);
        }
        catch (ArgumentException e)
        {
            return (null, e.Message);
        }
    }

    public static string Kebab(string name)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var boundary = i > 0 && (char.IsUpper(c) && !char.IsUpper(name[i - 1])
                                     || char.IsDigit(c) && !char.IsDigit(name[i - 1])
                                     || char.IsUpper(c) && i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]));
            if (boundary) sb.Append('-');
            sb.Append(char.ToLower(c, CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    public static string Usage()
    {
        var defaults = new SimOptions();
        var lines = SimOptions.SettingNames.Select(n =>
        {
            var value = typeof(SimOptions).GetProperty(n)!.GetValue(defaults) switch
            {
                IEnumerable<string> list => string.Join(',', list),
                IReadOnlyDictionary<string, double> map => map.Count == 0 ? "(none)" : string.Join(',', map.Select(kv => $"{kv.Key}={kv.Value}")),
                null => "(none)",
                var v => Convert.ToString(v, CultureInfo.InvariantCulture),
            };
            if (n == nameof(SimOptions.Port)) value = SimOptions.DefaultCommandLinePort.ToString(CultureInfo.InvariantCulture);
            return $"  --{Kebab(n),-28} default {value}";
        });
        return $"""
            SelfTaught SimBackend: a simulated LLM server (OpenAI /v1 and Ollama /api wire formats) for tests, benchmarks and demos.
            Every completion it returns says "(simulated response)". It is never a real model.

            Usage: dotnet run --project tools/SimBackend -- [--option value]...

            Options (also configuration keys SimBackend:<Name>, e.g. environment variable SimBackend__JudgeAccuracy=0.9):
            {string.Join('\n', lines)}

            --models takes a comma-separated list; --judge-accuracy-by-model takes m1=0.7,m2=0.9;
            --n-mode supported|reject500 (reject500 mimics llama.cpp: HTTP 500 for n > 1); a switch without a value means true.
            Aliases: {string.Join(", ", Aliases.Keys.Select(a => "--" + a))}
            """;
    }
}
