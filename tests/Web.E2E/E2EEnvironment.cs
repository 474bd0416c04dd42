using Microsoft.Playwright;

namespace SelfTaught.Web.E2E;

/// <summary>Where the browser and the screenshots come from; read from the environment that test.sh and CI set.</summary>
public static class E2EEnvironment
{
    /// <summary>
    /// A 1280×900 page with generous timeouts (Blazor Server needs a moment on a busy 2-core machine while other
    /// test projects run) that records page errors and console errors, failed resource loads included.
    /// </summary>
    public static async Task<(IPage Page, List<string> Errors)> OpenPageAsync(IBrowser browser)
    {
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new() { Width = 1280, Height = 900 } });
        page.SetDefaultTimeout(30_000);
        Assertions.SetDefaultExpectTimeout(30_000);
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error") errors.Add($"{message.Text} ({message.Location})");
        };
        return (page, errors);
    }

    /// <summary>Debian's Chromium; Playwright's own browser download is never used.</summary>
    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>With REQUIRE_E2E=1 (CI) a missing browser fails the test instead of skipping it.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("REQUIRE_E2E") == "1";

    /// <summary>E2E_ARTIFACTS, else artifacts/ at the repository root (git-ignored).</summary>
    public static string ArtifactsDirectory
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("E2E_ARTIFACTS");
            var dir = configured is { Length: > 0 }
                ? Path.GetFullPath(configured)
                : Path.Combine(FindRepositoryRoot() ?? Directory.GetCurrentDirectory(), "artifacts");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>Launches headless Chromium with the flags that work here (STACK.md gotcha 13), or skips/fails.</summary>
    public static async Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright)
    {
        if (!File.Exists(ChromiumPath))
        {
            var message = $"Chromium not found at {ChromiumPath} (set CHROMIUM_PATH, or run ./test.sh which installs it).";
            if (Required)
            {
                Assert.Fail(message + " REQUIRE_E2E=1, so this is a failure.");
            }
            Assert.Skip(message);
        }

        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            ],
        });
    }

    /// <summary>
    /// Waits until a DistributionChart's axis labels sit above its counts list. MudBlazor draws the chart first with a
    /// default label height and makes room for turned labels only after measuring them in the browser.
    /// </summary>
    public static Task WaitForChartLayoutAsync(IPage page, string chartId) =>
        page.WaitForFunctionAsync("""
            id => {
                const counts = document.getElementById(id + '-counts');
                const labels = [...document.querySelectorAll('#' + id + ' .mud-charts-xaxis text')];
                return counts && labels.length > 0 && labels.every(t => t.getBoundingClientRect().bottom <= counts.getBoundingClientRect().top);
            }
            """, chartId);

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SelfTaught.sln")))
            {
                return dir.FullName;
            }
        }
        return null;
    }

    /// <summary>
    /// Clicks <paramref name="button"/> until <paramref name="landedScript"/> (a JavaScript predicate) holds: a click on
    /// the prerendered page before the Blazor circuit is connected is lost, so each click is followed by a bounded wait.
    /// </summary>
    public static async Task ClickUntilAsync(IPage page, ILocator button, string landedScript)
    {
        for (var attempt = 1; !await page.EvaluateAsync<bool>(landedScript); attempt++)
        {
            await button.ClickAsync();
            try
            {
                await page.WaitForFunctionAsync(landedScript, null, new() { Timeout = 2_000 });
            }
            catch (TimeoutException) when (attempt < 15)
            {
            }
        }
    }
}
