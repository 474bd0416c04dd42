using System.ComponentModel.DataAnnotations;

namespace SelfTaught.Jobs;

/// <summary>Job queue settings, bound from the <c>Hangfire</c> configuration section.</summary>
public sealed class HangfireOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Hangfire";

    /// <summary>The only storage available today: jobs live in process memory.</summary>
    public const string InMemoryStorage = "InMemory";

    /// <summary>
    /// Where Hangfire keeps its queue (<c>Hangfire:Storage</c>). Default <c>InMemory</c>: the queue lives in this
    /// process and is lost on restart (the application database, not the queue, holds every result).
    /// </summary>
    public string Storage { get; set; } = InMemoryStorage;

    /// <summary>Number of Hangfire worker threads in this process (<c>Hangfire:WorkerCount</c>). Default 4.</summary>
    [Range(1, 256, ErrorMessage = "Hangfire:WorkerCount must be between 1 and 256.")]
    public int WorkerCount { get; set; } = 4;
}
