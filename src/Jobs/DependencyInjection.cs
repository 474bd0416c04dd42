using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SelfTaught.Core.Stages;

namespace SelfTaught.Jobs;

/// <summary>Registers the background job engine (Hangfire) and its settings.</summary>
public static class DependencyInjection
{
    /// <summary>
    /// Adds Hangfire with the storage named by <c>Hangfire:Storage</c> and a server with <c>Hangfire:WorkerCount</c>
    /// workers. Invalid settings fail at start with a message naming the key.
    /// </summary>
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<HangfireOptions>()
            .BindConfiguration(HangfireOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<HangfireOptions>, HangfireOptionsValidator>());

        builder.Services.AddHangfire((services, configuration) =>
        {
            // Reading Value runs the validators, so a bad storage name fails here too, not only at host start.
            var options = services.GetRequiredService<IOptions<HangfireOptions>>().Value;
            configuration
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();

            // The one place that chooses the storage; the validator guarantees a known value.
            if (string.Equals(options.Storage, HangfireOptions.InMemoryStorage, StringComparison.OrdinalIgnoreCase))
            {
                configuration.UseInMemoryStorage();
            }
        });

        builder.Services.AddHangfireServer((services, server) =>
        {
            server.WorkerCount = services.GetRequiredService<IOptions<HangfireOptions>>().Value.WorkerCount;
        });

        builder.Services.AddTransient<StageJobs>();
        builder.Services.AddSingleton<IStageScheduler, HangfireStageScheduler>();
        builder.Services.AddHostedService<StageRecoveryService>();

        return builder;
    }
}
