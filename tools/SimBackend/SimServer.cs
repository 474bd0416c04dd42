using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using SelfTaught.SimBackend.Protocols;

namespace SelfTaught.SimBackend;

/// <summary>
/// A running simulated LLM server (OpenAI + Ollama wire formats) on loopback. Start it in-process with
/// <see cref="StartAsync(SimOptions?, CancellationToken)"/>; dispose it to stop. For tests, benchmarks and demos only.
/// </summary>
public sealed class SimServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SimFaultQueue _faults = new();
    private readonly Lock _holdGate = new();
    private TaskCompletionSource? _hold;
    private long _unseededCounter;
    private int _disposed;

    private SimServer(WebApplication app, SimOptions options)
    {
        _app = app;
        Options = options;
        Stats = new SimStatistics(() => Options.MaxRecordedRequests);
    }

    /// <summary>Root URL without trailing slash, e.g. <c>http://127.0.0.1:41234</c> (the Ollama base URL).</summary>
    public string BaseUri { get; private set; } = "";

    /// <summary><see cref="BaseUri"/> as a <see cref="Uri"/> (with trailing slash), e.g. for <c>HttpClient.BaseAddress</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>OpenAI-compatible base URL, e.g. <c>http://127.0.0.1:41234/v1</c> (for <c>OpenAIClientOptions.Endpoint</c>).</summary>
    public Uri OpenAIBaseUri { get; private set; } = null!;

    /// <summary>The port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Live options: changes apply to requests that arrive afterwards.</summary>
    public SimOptions Options { get; }

    /// <summary>Server-side statistics.</summary>
    public SimStatistics Stats { get; }

    /// <summary>Faults queued by <see cref="FailNextRequests"/> and not yet used.</summary>
    public int PendingFaults => _faults.Count;

    /// <summary>Starts a server on <see cref="SimOptions.Host"/> (default 127.0.0.1) and <see cref="SimOptions.Port"/> (default 0 = a free port).</summary>
    public static Task<SimServer> StartAsync(SimOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAsync(options ?? new SimOptions(), consoleLogging: false, cancellationToken);

    internal static async Task<SimServer> StartAsync(SimOptions options, bool consoleLogging, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        // An empty builder: no appsettings.json, environment variables or Kestrel configuration of a host process
        // (e.g. a web app's test folder) can leak into the simulator; the options object is its only input.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SimServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRouting();
        builder.Logging.ClearProviders();
        if (consoleLogging) builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Judge prompts with two long answers can be large; allow generous bodies.
            kestrel.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            kestrel.Listen(ParseHost(options.Host), options.Port);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        var app = builder.Build();
        var server = new SimServer(app, options);
        SimEndpoints.Map(app, server);

        await app.StartAsync(cancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var bound = new Uri(address);
        var host = options.Host is "0.0.0.0" or "::" or "[::]" ? "127.0.0.1" : bound.Host;
        server.Port = bound.Port;
        server.BaseUri = $"http://{(host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host)}:{bound.Port}";
        server.BaseAddress = new Uri(server.BaseUri + "/");
        server.OpenAIBaseUri = new Uri(server.BaseUri + "/v1");
        return server;
    }

    /// <summary>The next <paramref name="count"/> matching requests fail with <paramref name="kind"/> (in order, before probabilistic faults).</summary>
    public void FailNextRequests(int count, SimFaultKind kind, SimFaultScope scope = SimFaultScope.ChatRequests) =>
        _faults.Enqueue(count, kind, scope);

    /// <summary>Drops every queued fault.</summary>
    public void ClearFaults() => _faults.Clear();

    /// <summary>
    /// Holds every chat request that arrives (after it is counted as in flight) until <see cref="ReleaseChatRequests"/>:
    /// lets a test fill a client's concurrency limit deterministically, without timing.
    /// </summary>
    public void HoldChatRequests()
    {
        lock (_holdGate) _hold ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Lets held chat requests (and later ones) proceed.</summary>
    public void ReleaseChatRequests()
    {
        TaskCompletionSource? hold;
        lock (_holdGate)
        {
            hold = _hold;
            _hold = null;
        }

        hold?.TrySetResult();
    }

    /// <summary>Completes when the server stops (Ctrl+C for the command line, or <see cref="DisposeAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops the server: hanging and held requests end, open connections close.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stopping.CancelAsync();
        ReleaseChatRequests();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(timeout.Token);
        }
        finally
        {
            await _app.DisposeAsync();
            _stopping.Dispose();
        }
    }

    internal CancellationToken Stopping => _stopping.Token;

    internal Task WaitIfHeldAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource? hold;
        lock (_holdGate) hold = _hold;
        return hold is null ? Task.CompletedTask : hold.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Base of <paramref name="count"/> consecutive sample numbers for requests without a seed.</summary>
    internal long NextUnseeded(int count) => Interlocked.Add(ref _unseededCounter, count) - count;

    internal SimFaultKind? TakeQueuedFault(bool isChat) => _faults.TryTake(isChat);

    private static IPAddress ParseHost(string host) => host switch
    {
        "localhost" => IPAddress.Loopback,
        "*" or "0.0.0.0" => IPAddress.Any,
        "::" or "[::]" => IPAddress.IPv6Any,
        _ => IPAddress.TryParse(host.Trim('[', ']'), out var ip)
            ? ip
            : throw new ArgumentException($"{SimOptions.SectionName}:{nameof(SimOptions.Host)} '{host}' is not an IP address or 'localhost'."),
    };
}
