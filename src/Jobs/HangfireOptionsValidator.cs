using Microsoft.Extensions.Options;

namespace SelfTaught.Jobs;

/// <summary>Rejects storage names this build cannot serve, naming the key so the fix is obvious.</summary>
internal sealed class HangfireOptionsValidator : IValidateOptions<HangfireOptions>
{
    public ValidateOptionsResult Validate(string? name, HangfireOptions options)
    {
        if (string.Equals(options.Storage, HangfireOptions.InMemoryStorage, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(
            $"Hangfire:Storage is '{options.Storage}', which is not supported. " +
            $"Set Hangfire:Storage to '{HangfireOptions.InMemoryStorage}' (the only storage available in this version).");
    }
}
