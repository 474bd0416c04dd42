namespace SelfTaught.SimBackend;

/// <summary>
/// Command-line entry point. An explicit, internal class (not top-level statements) so projects that reference
/// SimBackend beside the web app see only one public <c>Program</c>.
/// </summary>
internal static class SimBackendProgram
{
    private static async Task<int> Main(string[] args)
    {
        var (options, message) = SimCommandLine.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine(message);
            return args.Any(a => a is "-h" or "--help" or "-?") ? 0 : 2;
        }

        await using var server = await SimServer.StartAsync(options, consoleLogging: true, CancellationToken.None);
        Console.WriteLine($"SimBackend (simulated LLM server, for tests/benchmarks/demos only) listening on {server.BaseUri}");
        Console.WriteLine($"  OpenAI-compatible: {server.OpenAIBaseUri}   Ollama: {server.BaseUri}   models: {string.Join(", ", options.Models)}");
        Console.WriteLine("  Press Ctrl+C to stop.");
        await server.WaitForShutdownAsync();
        return 0;
    }
}
