using System.Collections.Concurrent;
using Hangfire;
using Hangfire.InMemory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SelfTaught.Core;

namespace SelfTaught.Jobs.Tests;

/// <summary>Hangfire keeps process-wide state, so hosts in this project start one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HangfireHostCollection
{
    public const string Name = "Hangfire host";
}

[Collection(HangfireHostCollection.Name)]
public class JobsRegistrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddJobs_RunsAnEnqueuedJob_OnInMemoryStorage_ByDefault()
    {
        using var host = await BuildAsync([]);
        await host.StartAsync(Ct);
        try
        {
            var token = Guid.NewGuid().ToString("N");
            var client = host.Services.GetRequiredService<IBackgroundJobClient>();

            client.Enqueue(() => ProbeJob.Run(token));

            Assert.IsType<InMemoryStorage>(host.Services.GetRequiredService<JobStorage>());
            Assert.Equal(token, await ProbeJob.WaitFor(token).WaitAsync(TimeSpan.FromSeconds(30), Ct));
        }
        finally
        {
            await host.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task HangfireOptions_BindWorkerCount()
    {
        using var host = await BuildAsync(new() { ["Hangfire:WorkerCount"] = "7" });

        Assert.Equal(7, host.Services.GetRequiredService<IOptions<HangfireOptions>>().Value.WorkerCount);
    }

    [Theory]
    [InlineData("Hangfire:Storage", "SqlServer", "Hangfire:Storage is 'SqlServer', which is not supported")]
    [InlineData("Hangfire:WorkerCount", "0", "Hangfire:WorkerCount must be between 1 and 256")]
    [InlineData("Hangfire:WorkerCount", "1000", "Hangfire:WorkerCount must be between 1 and 256")]
    public async Task Start_Fails_NamingTheKey_WhenASettingIsInvalid(string key, string value, string expected)
    {
        using var host = await BuildAsync(new() { [key] = value });

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains(expected, ex.Message);
    }

    private static async Task<IHost> BuildAsync(Dictionary<string, string?> settings)
    {
        var folder = Path.Combine(Path.GetTempPath(), "selftaught-jobs-" + Guid.NewGuid().ToString("N"));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = Directory.CreateDirectory(folder).FullName });
        builder.Configuration.AddInMemoryCollection(settings);
        // Start-up recovery reads stage runs, so the host has a database like the app's.
        builder.AddCore();
        builder.Services.AddSingleton<SelfTaught.Core.Models.IModelResolver>(new NoModels());
        builder.AddJobs();
        var host = builder.Build();
        await host.Services.InitializeDatabaseAsync(Ct);
        return host;
    }
}

internal sealed class NoModels : SelfTaught.Core.Models.IModelResolver
{
    public SelfTaught.Core.Models.ResolvedModel Resolve(SelfTaught.Core.Models.ModelReference model) =>
        throw new SelfTaught.Core.Models.ModelResolutionException("No models in this test.");
}

/// <summary>A job Hangfire can serialize (static, string argument) that reports that it ran.</summary>
public static class ProbeJob
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource<string>> Runs = new();

    public static void Run(string token) => Completion(token).TrySetResult(token);

    public static Task<string> WaitFor(string token) => Completion(token).Task;

    private static TaskCompletionSource<string> Completion(string token) =>
        Runs.GetOrAdd(token, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
}
