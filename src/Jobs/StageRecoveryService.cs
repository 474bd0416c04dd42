using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SelfTaught.Core.Stages;

namespace SelfTaught.Jobs;

/// <summary>
/// With the in-memory job queue, queued jobs die with the process: at start-up, unfinished stage runs are enqueued
/// again from the database. Only then, and only for that storage, or every worker of a shared queue would enqueue duplicates.
/// </summary>
public sealed class StageRecoveryService(StageEngine engine, IOptions<HangfireOptions> options) : IHostedService
{
    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.Equals(options.Value.Storage, HangfireOptions.InMemoryStorage, StringComparison.OrdinalIgnoreCase))
            await engine.RecoverAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
