// Inference throughput benchmark: N requests against SimBackend with a fixed latency L, at concurrency C.
// Compares, in one run, the full middleware stack (endpoint limiter = C, retries, timeout, usage, OpenTelemetry,
// least-outstanding routing) with the ideal C/L and with a bare Parallel.ForEachAsync over the raw client library.
// Usage: dotnet run -c Release --project bench/Inference.Bench [-- requests concurrency latencyMs]
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using SelfTaught.Inference;
using SelfTaught.SimBackend;

var requests = args.Length > 0 ? int.Parse(args[0]) : 5_000;
var concurrency = args.Length > 1 ? int.Parse(args[1]) : 64;
var latencyMs = args.Length > 2 ? int.Parse(args[2]) : 200;
var ideal = concurrency / (latencyMs / 1000.0);
ChatMessage[] prompt = [new(ChatRole.User, "Please act as an impartial judge. Which answer is better?")];

Console.WriteLine($"{requests:N0} requests, concurrency {concurrency}, SimBackend latency {latencyMs} ms fixed; ideal C/L = {ideal:N1} req/s");
var rows = new List<(string Name, double Rate)>();
foreach (var kind in new[] { EndpointKind.OpenAICompatible, EndpointKind.Ollama })
{
    await using var sim = await SimServer.StartAsync(new SimOptions { LatencyMs = latencyMs, PerTokenMs = 0, MaxRecordedRequests = 0 });
    var endpoint = new EndpointOptions
    {
        Name = "sim", Kind = kind, DefaultModel = "sim-judge", MaxConcurrentRequests = concurrency, RequestTimeoutSeconds = 120,
        BaseUrl = kind == EndpointKind.Ollama ? sim.BaseUri : sim.OpenAIBaseUri.ToString(),
    };
    var options = new InferenceOptions { Endpoints = [endpoint] };
    var factory = new ChatClientFactory(options, NullLoggerFactory.Instance, _ => null);
    var registry = new EndpointRegistry(options, factory);
    var stack = registry.Resolve("sim-judge").Client;
    var raw = ChatClientFactory.CreateProtocolClient(endpoint, factory.CreateHttpClient(endpoint), "sim-judge", null);

    // Warm up connections and JIT on both paths.
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(i => stack.GetResponseAsync(prompt, new ChatOptions { Seed = i, MaxOutputTokens = 64 })));
    await Parallel.ForEachAsync(Enumerable.Range(0, concurrency), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
        async (i, ct) => await raw.GetResponseAsync(prompt, new ChatOptions { Seed = i, MaxOutputTokens = 64 }, ct));

    // Full stack: every request is started at once; the endpoint's limiter is what holds concurrency at C.
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, requests).Select(i => stack.GetResponseAsync(prompt, new ChatOptions { Seed = i, MaxOutputTokens = 64 })));
    var stackRate = requests / clock.Elapsed.TotalSeconds;
    var maxAtServer = sim.Stats.MaxConcurrentChatRequests;

    clock.Restart();
    await Parallel.ForEachAsync(Enumerable.Range(0, requests), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
        async (i, ct) => await raw.GetResponseAsync(prompt, new ChatOptions { Seed = i, MaxOutputTokens = 64 }, ct));
    var rawRate = requests / clock.Elapsed.TotalSeconds;

    Console.WriteLine($"{kind}: full stack {stackRate:N1} req/s (max {maxAtServer} in flight at the server), bare client {rawRate:N1} req/s");
    rows.Add(($"{kind}: full middleware stack", stackRate));
    rows.Add(($"{kind}: bare Parallel.ForEachAsync, raw client", rawRate));
}

Console.WriteLine();
Console.WriteLine("| path | req/s | ratio to ideal C/L |");
Console.WriteLine("|---|---:|---:|");
Console.WriteLine($"| ideal C/L | {ideal:N1} | 1.000 |");
foreach (var (name, rate) in rows) Console.WriteLine($"| {name} | {rate:N1} | {rate / ideal:0.000} |");
var worst = rows.Where(r => r.Name.Contains("full", StringComparison.Ordinal)).Min(r => r.Rate) / ideal;
Console.WriteLine();
Console.WriteLine(worst >= 0.95 ? $"Goal met: full stack at {worst:0.000} of ideal (goal ≥ 0.95)." : $"Goal missed: full stack at {worst:0.000} of ideal (goal ≥ 0.95).");
