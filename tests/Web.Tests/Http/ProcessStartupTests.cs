using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace SelfTaught.Web.Tests.Http;

/// <summary>Starts the built app as a real process, as <c>dotnet run</c> or the container does.</summary>
public sealed class ProcessStartupTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "selftaught-process-" + Guid.NewGuid().ToString("N"));

    public ProcessStartupTests() => Directory.CreateDirectory(_folder);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Start_StopsWithAClearMessage_AndLeavesTheFileUntouched_WhenDatabaseFileIsCorrupt()
    {
        var file = Path.Combine(_folder, "data", "selftaught.db");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var bytes = new byte[16384];
        new Random(3).NextBytes(bytes);
        await File.WriteAllBytesAsync(file, bytes, Ct);
        var before = Convert.ToHexString(SHA256.HashData(bytes));

        // No connection string: the default "data/selftaught.db" under the content root points at the corrupt file.
        var (exitCode, output) = await RunUntilExit(new Dictionary<string, string>());

        Assert.Equal(1, exitCode);
        Assert.Contains("SelfTaught did not start", output);
        Assert.Contains("ConnectionStrings:SelfTaught", output);
        Assert.Contains(file, output);
        Assert.Equal(before, Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(file, Ct))));
        Assert.Equal(["selftaught.db"], Directory.GetFiles(Path.GetDirectoryName(file)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Start_StopsNamingTheSetting_WhenConnectionStringIsMalformed()
    {
        var (exitCode, output) = await RunUntilExit(new() { ["ConnectionStrings__SelfTaught"] = "Data Source=x.db;Color=Blue" });

        Assert.Equal(1, exitCode);
        Assert.Contains("ConnectionStrings:SelfTaught", output);
        Assert.Contains("not a valid SQLite connection string", output);
        Assert.False(File.Exists(Path.Combine(_folder, "x.db")));
    }

    [Theory]
    [InlineData("Hangfire__Storage", "Redis", "Hangfire:Storage is 'Redis'")]
    [InlineData("Hangfire__WorkerCount", "0", "Hangfire:WorkerCount must be between 1 and 256")]
    [InlineData("Inference__Endpoints__0__BaseUrl", "localhost:11434", "Inference:Endpoints:0:BaseUrl")]
    public async Task Start_StopsNamingTheKey_WhenASettingIsInvalid(string variable, string value, string expected)
    {
        var settings = new Dictionary<string, string> { [variable] = value };
        if (variable.StartsWith("Inference", StringComparison.Ordinal)) settings["Inference__Endpoints__0__Name"] = "local";

        var (exitCode, output) = await RunUntilExit(settings);

        Assert.Equal(1, exitCode);
        Assert.Contains("SelfTaught did not start", output);
        Assert.Contains(expected, output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Start_CreatesTheDatabaseInDataFolder_AndServesHealth_WithDefaults()
    {
        var port = FreePort();
        using var process = Start(new() { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" });
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpResponseMessage? health = null;
            while (DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    health = await http.GetAsync("/health", Ct);
                    break;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200, Ct);
                }
            }

            Assert.NotNull(health);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.True(File.Exists(Path.Combine(_folder, "data", "selftaught.db")));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(Ct);
        }
    }

    private Process Start(Dictionary<string, string> environment)
    {
        var app = Path.Combine(AppContext.BaseDirectory, "SelfTaught.Web.dll");
        var info = new ProcessStartInfo("dotnet", [app])
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        info.Environment["Hangfire__Storage"] = "InMemory";
        foreach (var (key, value) in environment) info.Environment[key] = value;
        return Process.Start(info)!;
    }

    private async Task<(int ExitCode, string Output)> RunUntilExit(Dictionary<string, string> environment)
    {
        using var process = Start(environment);
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The app kept running instead of refusing to start.");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { /* a killed process may still hold a file */ }
    }
}
