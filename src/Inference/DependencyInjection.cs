using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SelfTaught.Inference;

/// <summary>Registrations of the inference layer.</summary>
public static class DependencyInjection
{
    /// <summary>
    /// Binds and validates <see cref="InferenceOptions"/> (section <c>Inference</c>; a bad endpoint stops start-up naming
    /// its key) and registers the endpoint registry, the health checker and the background health monitor.
    /// </summary>
    public static IHostApplicationBuilder AddInference(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<InferenceOptions>, InferenceOptionsValidator>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<InferenceOptions>>().Value);
        builder.Services.AddSingleton(sp =>
        {
            var configuration = sp.GetRequiredService<IConfiguration>();
            return new ChatClientFactory(sp.GetRequiredService<InferenceOptions>(), sp.GetRequiredService<ILoggerFactory>(), name => configuration[name]);
        });
        builder.Services.AddSingleton<EndpointRegistry>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EndpointHealthChecker>();
        builder.Services.AddHostedService<EndpointHealthMonitor>();
        return builder;
    }
}
