using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SelfTaught.SimBackend;
using static Microsoft.Playwright.Assertions;

namespace SelfTaught.Web.E2E;

/// <summary>
/// Backend endpoints in a real browser: a configured endpoint pointing at SimBackend on loopback is checked and
/// test-chatted from Settings; a stored one is added through the form, validated, deleted; the Dashboard and
/// <c>GET /api/backends</c> show the same state.
/// </summary>
[Collection(nameof(HangfireHostCollection))]
public sealed partial class BackendsSettingsTests
{
    private const string Configured = "sim-config";
    private const string Stored = "sim-openai";
    // Valid both as a plain variable name and under the stricter "…_API_KEY / …_TOKEN" rule; it is never set.
    private const string KeyReference = "SIM_E2E_API_KEY";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Backends_AreCheckedTestedAddedValidatedAndDeleted_WhenManagedFromSettings()
    {
        Assert.True(Environment.GetEnvironmentVariable(KeyReference) is null,
            $"{KeyReference} must not be set: the test expects the stored endpoint's key reference to be reported missing.");

        // Disposed in reverse order: browser, then app, then the simulated server the app talks to.
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var app = new KestrelAppFactory()
            .With("Inference:Endpoints:0:Name", Configured)
            .With("Inference:Endpoints:0:Kind", "Ollama")
            .With("Inference:Endpoints:0:BaseUrl", sim.BaseUri)
            .With("Inference:Endpoints:0:DefaultModel", "sim-judge")
            .With("Inference:HealthCheckIntervalSeconds", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await E2EEnvironment.LaunchChromiumAsync(playwright);
        app.StartServer();

        var (page, pageErrors) = await E2EEnvironment.OpenPageAsync(browser);

        var artifacts = E2EEnvironment.ArtifactsDirectory;
        var failureShot = Path.Combine(artifacts, "e2e-backends-failure.png");
        File.Delete(failureShot);
        try
        {
            // 1. The configured endpoint turns healthy (the page polls the background health monitor) and lists its models.
            await page.GotoAsync(app.BaseUrl + "/settings");
            var configured = Row(page, Configured);
            await Expect(StateChip(configured)).ToHaveAttributeAsync("data-state", "Healthy");
            await Expect(StateChip(configured)).ToHaveTextAsync("healthy");
            await Expect(Cell(configured, "Models")).ToContainTextAsync("sim-judge");
            await Expect(Cell(configured, "Defined in")).ToHaveTextAsync("configuration");

            // 2. Test chat through the full middleware stack. This is the first click of the page: it is repeated until
            // it lands (clicks on the prerendered page before the Blazor circuit is connected are lost). A click has
            // landed once the button is disabled while the chat runs, or the result is there.
            var testResult = page.Locator("#backend-test-result");
            await E2EEnvironment.ClickUntilAsync(page, page.Locator($"#backend-test-{Configured}"), $$"""
                () => document.querySelector('#backend-test-result') !== null
                      || document.querySelector('#backend-test-{{Configured}}')?.disabled === true
                """);
            await Expect(testResult).ToContainTextAsync("simulated");
            await Expect(testResult).ToContainTextAsync("sim-judge");
            await Expect(testResult).ToHaveClassAsync(new Regex(@"\bmud-alert-text-success\b"));

            // 3. A stored OpenAI-compatible endpoint added through the form.
            await page.Locator("#backend-add").ClickAsync();
            var form = page.Locator("#backend-form");
            await Expect(form).ToBeVisibleAsync();
            await FillAsync(page.Locator("#backend-name"), Stored);
            await ChooseKindAsync(page, form, "OpenAI-compatible", "OpenAICompatible");
            await FillAsync(page.Locator("#backend-url"), sim.OpenAIBaseUri.ToString());
            await FillAsync(page.Locator("#backend-model"), "sim-judge");
            await FillAsync(page.Locator("#backend-key"), KeyReference);
            await page.Locator("#backend-save").ClickAsync();

            await Expect(form).ToBeHiddenAsync();
            var stored = Row(page, Stored);
            await Expect(stored).ToHaveCountAsync(1);
            await Expect(Cell(stored, "Kind")).ToHaveTextAsync("OpenAI-compatible");
            await Expect(Cell(stored, "Base URL")).ToHaveTextAsync(sim.OpenAIBaseUri.ToString());
            await Expect(Cell(stored, "Defined in")).ToHaveTextAsync("database");
            await Expect(Cell(stored, "API key")).ToHaveTextAsync($"missing: {KeyReference} is not set");
            await Expect(StateChip(stored)).ToHaveAttributeAsync("data-state", "Healthy");
            await Expect(Cell(stored, "Models")).ToContainTextAsync("sim-judge");
            await Expect(page.Locator("#backends-table tbody tr")).ToHaveCountAsync(2);
            // Clicking Test scrolled the (wider than 1280 px) table sideways; show it as it first appears.
            await page.Locator("#backends-table .mud-table-container").EvaluateAsync("e => e.scrollLeft = 0");
            await page.ScreenshotAsync(new()
            {
                Path = Path.Combine(artifacts, "e2e-backends-settings.png"), FullPage = true,
                Animations = ScreenshotAnimations.Disabled,
            });

            // 4. A bad form is refused with one message per wrong field, and nothing is stored.
            await page.Locator("#backend-add").ClickAsync();
            await Expect(form).ToBeVisibleAsync();
            await FillAsync(page.Locator("#backend-name"), "bad one");
            await FillAsync(page.Locator("#backend-url"), "localhost");
            await page.Locator("#backend-save").ClickAsync();
            var errors = page.Locator("[data-testid=backend-error]");
            await Expect(errors).ToHaveCountAsync(2);
            await Expect(errors.Filter(new() { HasText = "Name 'bad one'" })).ToHaveCountAsync(1);
            await Expect(errors.Filter(new() { HasText = "BaseUrl 'localhost'" })).ToHaveCountAsync(1);
            await Expect(form).ToBeVisibleAsync();
            await Expect(page.Locator("#backends-table tbody tr")).ToHaveCountAsync(2);
            await Expect(Row(page, "bad one")).ToHaveCountAsync(0);
            await form.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();
            await Expect(form).ToBeHiddenAsync();

            // 5. Deleting the stored endpoint removes its row, and it stays gone after a reload; the configured one stays.
            await page.GetByRole(AriaRole.Button, new() { Name = $"Delete {Stored}", Exact = true }).ClickAsync();
            await Expect(stored).ToHaveCountAsync(0);
            await page.ReloadAsync();
            await Expect(Row(page, Configured)).ToBeVisibleAsync();
            await Expect(page.Locator("#backends-table tbody tr")).ToHaveCountAsync(1);
            await Expect(Row(page, Stored)).ToHaveCountAsync(0);
            // Only endpoints from the database have edit/delete buttons.
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Delete {Configured}" })).ToHaveCountAsync(0);

            // 6. The Dashboard's health card shows the configured endpoint as healthy.
            await page.GotoAsync(app.BaseUrl + "/");
            var health = page.Locator("#backend-health");
            await Expect(health.Locator($"[data-endpoint={Configured}] [data-state=Healthy]")).ToBeVisibleAsync();
            await Expect(health.Locator($"[data-endpoint={Stored}]")).ToHaveCountAsync(0);
            await page.ScreenshotAsync(new()
            {
                Path = Path.Combine(artifacts, "e2e-backends-dashboard.png"), FullPage = true,
                Animations = ScreenshotAnimations.Disabled,
            });

            await Expect(page.Locator("#blazor-error-ui")).ToBeHiddenAsync();
            Assert.True(pageErrors.Count == 0, "Browser errors:\n" + string.Join("\n", pageErrors));
        }
        catch
        {
            await TrySaveScreenshotAsync(page, failureShot);
            throw;
        }

        // 7. The HTTP API reports the same state, with the models and digests Ollama's /api/tags returned.
        using var http = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };
        var backends = await http.GetFromJsonAsync<JsonElement>("/api/backends", Ct);
        var listed = Assert.Single(backends.EnumerateArray());
        Assert.Equal(Configured, listed.GetProperty("name").GetString());
        Assert.Equal("Healthy", listed.GetProperty("state").GetString());
        var judge = listed.GetProperty("models").EnumerateArray()
            .Single(m => m.GetProperty("name").GetString() == "sim-judge:latest");
        var digest = judge.GetProperty("digest").GetString();
        Assert.Matches(Sha256Hex(), digest ?? "");
        Assert.Equal(SimModels.Digest("sim-judge"), digest);
    }

    /// <summary>The row of the backends table whose Name cell is exactly <paramref name="name"/>.</summary>
    private static ILocator Row(IPage page, string name) =>
        page.Locator("#backends-table tbody tr").Filter(new()
        {
            Has = page.Locator("td[data-label='Name']", new() { HasTextRegex = new Regex($@"^\s*{Regex.Escape(name)}\s*$") }),
        });

    private static ILocator Cell(ILocator row, string label) => row.Locator($"td[data-label='{label}']");

    private static ILocator StateChip(ILocator row) => Cell(row, "State").Locator("[data-state]");

    /// <summary>
    /// MudTextField updates its value on <c>change</c>: fill, then leave the field so the value reaches the server
    /// before the next action, and check the field kept it.
    /// </summary>
    private static async Task FillAsync(ILocator input, string value)
    {
        await input.FillAsync(value);
        await input.BlurAsync();
        await Expect(input).ToHaveValueAsync(value);
    }

    /// <summary>Opens the form's "Kind" MudSelect and picks the item showing <paramref name="itemText"/>, whose value is <paramref name="value"/>.</summary>
    private static async Task ChooseKindAsync(IPage page, ILocator form, string itemText, string value)
    {
        var select = form.Locator(".mud-input-control.mud-select").Filter(new() { Has = page.Locator("label", new() { HasText = "Kind" }) });
        await select.ClickAsync();
        var item = page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = itemText });
        await item.ClickAsync();
        await Expect(page.Locator(".mud-popover-open .mud-list-item")).ToHaveCountAsync(0);
        // The select shows the item's text and keeps the chosen enum value in its hidden input.
        await Expect(select).ToContainTextAsync(itemText);
        await Expect(select.Locator("input")).ToHaveValueAsync(value);
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

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}
