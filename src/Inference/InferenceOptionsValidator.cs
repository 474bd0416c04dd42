using Microsoft.Extensions.Options;

namespace SelfTaught.Inference;

/// <summary>Rejects endpoint settings that cannot work, naming the configuration key and what to write instead.</summary>
public sealed class InferenceOptionsValidator : IValidateOptions<InferenceOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, InferenceOptions options)
    {
        const string section = InferenceOptions.SectionName;
        var errors = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Endpoints.Count; i++)
        {
            var e = options.Endpoints[i];
            var key = $"{section}:Endpoints:{i}";
            errors.AddRange(ValidateEndpoint(e, key));
            if (!string.IsNullOrWhiteSpace(e.Name) && !seen.Add(e.Name))
                errors.Add($"{key}:Name '{e.Name}' is used by another endpoint: names must be unique.");
        }
        if (options.Retry.MaxRetries is < 0 or > 20)
            errors.Add($"{section}:Retry:MaxRetries is {options.Retry.MaxRetries}: use 0–20.");
        if (options.Retry.BaseDelayMs < 0 || options.Retry.MaxDelayMs < options.Retry.BaseDelayMs)
            errors.Add($"{section}:Retry:BaseDelayMs must be at least 0 and at most {section}:Retry:MaxDelayMs.");
        if (options.HealthCheckIntervalSeconds < 1)
            errors.Add($"{section}:HealthCheckIntervalSeconds is {options.HealthCheckIntervalSeconds}: it must be at least 1.");
        if (options.HealthCheckTimeoutSeconds < 1)
            errors.Add($"{section}:HealthCheckTimeoutSeconds is {options.HealthCheckTimeoutSeconds}: it must be at least 1.");
        if (options.DefaultMaxTokens < 1)
            errors.Add($"{section}:DefaultMaxTokens is {options.DefaultMaxTokens}: it must be at least 1.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Problems with one endpoint, each naming <paramref name="key"/> (a configuration path or a form field prefix).</summary>
    public static IEnumerable<string> ValidateEndpoint(EndpointOptions e, string key)
    {
        if (string.IsNullOrWhiteSpace(e.Name))
            yield return $"{key}:Name is empty: give each endpoint a unique name.";
        else if (e.Name.Length > 100 || e.Name.Any(c => char.IsWhiteSpace(c) || c == '/'))
            yield return $"{key}:Name '{e.Name}' must be at most 100 characters without spaces or '/'.";
        if (!Uri.TryCreate(e.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            yield return $"{key}:BaseUrl '{e.BaseUrl}' is not an absolute http(s) URL, e.g. http://localhost:11434.";
        else if (uri.UserInfo.Length > 0)
            // Not echoed: the URL holds a password.
            yield return $"{key}:BaseUrl must not contain a user name or password (user:pass@host): put the key behind ApiKeyReference instead.";
        if (e.MaxConcurrentRequests is < 1 or > 1024)
            yield return $"{key}:MaxConcurrentRequests is {e.MaxConcurrentRequests}: it must be between 1 and 1024.";
        if (e.RequestTimeoutSeconds < 1)
            yield return $"{key}:RequestTimeoutSeconds is {e.RequestTimeoutSeconds}: it must be at least 1.";
        if (e.NumCtx is < 1)
            yield return $"{key}:NumCtx is {e.NumCtx}: it must be at least 1 or unset.";
        // Not echoed: a rejected value may be the key itself.
        if (e.ApiKeyReference is { } reference && !ApiKeyReferences.IsValid(reference))
            yield return $"{key}:ApiKeyReference is not accepted: it must name where the key is, not be the key — {ApiKeyReferences.AcceptedForms}.";
        if (e.MaxTokensField is not (EndpointOptions.MaxTokens or EndpointOptions.MaxCompletionTokens))
            yield return $"{key}:MaxTokensField '{e.MaxTokensField}' must be {EndpointOptions.MaxTokens} (default) or {EndpointOptions.MaxCompletionTokens}.";
    }
}
