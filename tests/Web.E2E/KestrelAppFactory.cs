using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace SelfTaught.Web.E2E;

/// <summary>
/// Serves the real app over Kestrel on 127.0.0.1 (a free port) so a real browser can reach it, with a fresh SQLite
/// file in a temp folder and the in-memory job queue. <see cref="With"/> adds settings on top.
/// </summary>
public sealed class KestrelAppFactory : WebApplicationFactory<Program>
{
    private readonly string _tempDir = Path.Combine(Path.GetTempPath(), "selftaught-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string?> _settings = [];

    public KestrelAppFactory()
    {
        Directory.CreateDirectory(_tempDir);
        Port = FreePort();
        UseKestrel(o => o.Listen(IPAddress.Loopback, Port));
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public string DatabasePath => Path.Combine(_tempDir, "selftaught-e2e.db");

    /// <summary>Overrides one setting (e.g. <c>Inference:Endpoints:0:BaseUrl</c>); call before <c>StartServer</c>.</summary>
    public KestrelAppFactory With(string key, string value)
    {
        _settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Development serves MudBlazor's static web assets from the build output (STACK.md gotcha 8).
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:SelfTaught", $"Data Source={DatabasePath}");
        builder.UseSetting("Hangfire:Storage", "InMemory");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(_tempDir, recursive: true);
        }
        catch (IOException)
        {
            // A pooled SQLite handle may still hold the file for a moment; it is only a temp folder.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
