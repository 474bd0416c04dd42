using System.Text.RegularExpressions;

namespace SelfTaught.Inference;

/// <summary>
/// The two accepted forms of <see cref="EndpointOptions.ApiKeyReference"/>. Anything else is refused, so a reference can
/// never point at an unrelated secret of the process (a connection string, cloud credentials) or be the key itself.
/// </summary>
public static partial class ApiKeyReferences
{
    /// <summary>Prefix of configuration keys holding API keys (user secrets, appsettings).</summary>
    public const string ConfigurationPrefix = "Inference:ApiKeys:";

    /// <summary>Both accepted forms, for messages.</summary>
    public const string AcceptedForms =
        "an environment variable whose name ends in _API_KEY or _TOKEN (upper case, e.g. OPENAI_API_KEY, VLLM_API_KEY, HF_TOKEN) " +
        "or a configuration key Inference:ApiKeys:<name> (user secrets or appsettings)";

    /// <summary>Whether <paramref name="reference"/> names an environment variable such as <c>VLLM_API_KEY</c> or <c>HF_TOKEN</c>.</summary>
    public static bool IsEnvironmentVariable(string reference) => EnvironmentVariable().IsMatch(reference);

    /// <summary>Whether <paramref name="reference"/> is a configuration key <c>Inference:ApiKeys:&lt;name&gt;</c>.</summary>
    public static bool IsConfigurationKey(string reference) => ConfigurationKey().IsMatch(reference);

    /// <summary>Whether <paramref name="reference"/> has one of the accepted forms.</summary>
    public static bool IsValid(string reference) => IsEnvironmentVariable(reference) || IsConfigurationKey(reference);

    [GeneratedRegex(@"^[A-Z][A-Z0-9_]*_(API_KEY|TOKEN)\z")]
    private static partial Regex EnvironmentVariable();

    [GeneratedRegex(@"^Inference:ApiKeys:[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\z")]
    private static partial Regex ConfigurationKey();
}
