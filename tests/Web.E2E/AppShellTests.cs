using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SelfTaught.Web.E2E;

/// <summary>The real app in a real browser: navigation through every section, MudBlazor styling, dark mode.</summary>
[Collection(nameof(HangfireHostCollection))]
public sealed class AppShellTests
{
    /// <summary>
    /// Nav link id, route, page heading (h1), and what the page shows on an empty database (Settings lists the
    /// built-in prompt templates, registered at start-up).
    /// </summary>
    private static readonly (string NavId, string Path, string Heading, string EmptyText)[] Sections =
    [
        ("nav-dashboard", "/", "Dashboard", "Next step"),
        ("nav-data", "/data", "Data", "No datasets yet"),
        ("nav-experiments", "/experiments", "Experiments", "No experiments yet"),
        ("nav-pairs", "/pairs", "Pairs", "No pairs yet"),
        ("nav-judgments", "/judgments", "Judgments", "No judgments yet"),
        ("nav-evaluations", "/evaluations", "Evaluations", "No evaluations yet"),
        ("nav-audit", "/audit", "Audit", "No audit sessions yet"),
        ("nav-jobs", "/jobs", "Jobs", "No jobs have run yet"),
        ("nav-settings", "/settings", "Settings", "judge-pairwise"),
    ];

    [Fact]
    public async Task AppShell_ShowsEverySectionStyledAndKeepsDarkMode_WhenClickedThroughInBrowser()
    {
        // Disposed in reverse order: the browser closes its Blazor connection before the app stops, or the host
        // waits out its shutdown timeout on the open WebSocket.
        await using var app = new KestrelAppFactory();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await E2EEnvironment.LaunchChromiumAsync(playwright);
        app.StartServer();

        var (page, pageErrors) = await E2EEnvironment.OpenPageAsync(browser);

        var artifacts = E2EEnvironment.ArtifactsDirectory;
        File.Delete(Path.Combine(artifacts, "e2e-failure.png"));
        try
        {
            await page.GotoAsync(app.BaseUrl);
            await Expect(page.Locator(".mud-appbar")).ToBeVisibleAsync();

            // MudBlazor's stylesheet is served and applied: the app bar gets the theme's primary colour.
            var appBarBackground = await page.Locator(".mud-appbar").First
                .EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor");
            Assert.NotEqual("rgba(0, 0, 0, 0)", appBarBackground);
            Assert.NotEqual("transparent", appBarBackground);

            foreach (var (navId, path, heading, emptyText) in Sections)
            {
                await page.Locator($"#{navId}").ClickAsync();
                await Expect(page).ToHaveURLAsync(new Regex("^" + Regex.Escape(app.BaseUrl + path) + "$"));
                await Expect(page.Locator($"#{navId}")).ToHaveClassAsync(new Regex(@"\bactive\b"));
                await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1, Name = heading, Exact = true }))
                    .ToBeVisibleAsync();
                await Expect(page.GetByText(emptyText, new() { Exact = true }).First).ToBeVisibleAsync();
                await page.ScreenshotAsync(new()
                {
                    Path = Path.Combine(artifacts, $"e2e-{navId["nav-".Length..]}.png"),
                    FullPage = true,
                    Animations = ScreenshotAnimations.Disabled, // no half-drawn ripple from the click
                });
            }

            await Expect(page.Locator("#blazor-error-ui")).ToBeHiddenAsync();
            // The settings reached the app: it uses this test's database file and the in-memory queue.
            await Expect(page.Locator("#settings-data-source")).ToContainTextAsync(app.DatabasePath);
            await Expect(page.Locator("#settings-hangfire-storage")).ToHaveTextAsync("InMemory");

            // Dark mode: starts light, the toggle switches it, and a reload keeps it.
            Assert.False(await IsDarkAsync(page), "The app should start in light mode.");
            await ToggleDarkModeAsync(page);
            await page.ReloadAsync();
            await Expect(page.Locator(".mud-appbar")).ToBeVisibleAsync();
            await WaitForDarkAsync(page);
            await page.ScreenshotAsync(new()
            {
                Path = Path.Combine(artifacts, "e2e-dark-after-reload.png"), FullPage = true,
                Animations = ScreenshotAnimations.Disabled,
            });

            Assert.True(pageErrors.Count == 0, "Browser errors:\n" + string.Join("\n", pageErrors));
        }
        catch
        {
            await TrySaveScreenshotAsync(page, Path.Combine(artifacts, "e2e-failure.png"));
            throw;
        }
    }

    /// <summary>
    /// Clicks the toggle until the page is dark, then waits until the choice is stored. A click that lands before
    /// the Blazor circuit is connected is lost, so each click is followed by a bounded wait for the condition (never a
    /// fixed sleep), and the state is checked again before clicking, so a slow click is not undone by the next one.
    /// </summary>
    private static async Task ToggleDarkModeAsync(IPage page)
    {
        var toggle = page.Locator("#theme-toggle");
        for (var attempt = 1; !await IsDarkAsync(page); attempt++)
        {
            await toggle.ClickAsync();
            try
            {
                await WaitForDarkAsync(page, timeoutMs: 10_000);
            }
            catch (TimeoutException) when (attempt < 3)
            {
            }
        }

        // The page turns dark first and the choice is written to its cookie just after: reload only once it is there.
        await page.WaitForFunctionAsync("() => document.cookie.includes('selftaught-theme=dark')");
    }

    private static async Task TrySaveScreenshotAsync(IPage page, string path)
    {
        try
        {
            await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        }
        catch (PlaywrightException)
        {
            // The browser may be what failed; the original exception matters more than the picture.
        }
    }

    private static Task WaitForDarkAsync(IPage page, float timeoutMs = 30_000) =>
        page.WaitForFunctionAsync(IsDarkScript, null, new() { Timeout = timeoutMs });

    private static Task<bool> IsDarkAsync(IPage page) => page.EvaluateAsync<bool>(IsDarkScript);

    /// <summary>Dark = the page background (MudBlazor's palette background on body) is opaque with low luminance.</summary>
    private const string IsDarkScript = """
        () => {
          const m = getComputedStyle(document.body).backgroundColor.match(/\d+(\.\d+)?/g);
          if (!m) return false;
          const [r, g, b, a] = m.map(Number);
          if (a === 0) return false;
          return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 < 0.5;
        }
        """;
}
