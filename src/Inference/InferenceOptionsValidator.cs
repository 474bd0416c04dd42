using Microsoft.Extensions.Options;

namespace SelfTaught.Inference;

/// <summary>Rejects endpoint settings that cannot work, naming the configuration key and what to write instead.</summary>
public sealed class InferenceOptionsValidator : IValidateOptions<InferenceOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, InferenceOptions options)
    {
        var errors = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Endpoints.Count; i++)
        {
            var e = options.Endpoints[i];
            var key = $"{InferenceOptions.SectionName}:Endpoints:{i}";
            if (string.IsNullOrWhiteSpace(e.Name))
                errors.Add($"{key}:Name is empty: give each endpoint a unique name.");
            else if (!seen.Add(e.Name))
                errors.Add($"{key}:Name '{e.Name}' is used by another endpoint: names must be unique.");
            if (!Uri.TryCreate(e.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                errors.Add($"{key}:BaseUrl '{e.BaseUrl}' is not an absolute http(s) URL, e.g. http://localhost:11434.");
            if (e.MaxConcurrentRequests < 1)
                errors.Add($"{key}:MaxConcurrentRequests is {e.MaxConcurrentRequests}: it must be at least 1.");
            if (e.RequestTimeoutSeconds < 1)
                errors.Add($"{key}:RequestTimeoutSeconds is {e.RequestTimeoutSeconds}: it must be at least 1.");
            if (e.ApiKeyReference is { } reference && (reference.StartsWith("sk-", StringComparison.Ordinal) || reference.Length > 128 || reference.Any(char.IsWhiteSpace)))
                errors.Add($"{key}:ApiKeyReference must name an environment variable or user secret that holds the key, not the key itself.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
