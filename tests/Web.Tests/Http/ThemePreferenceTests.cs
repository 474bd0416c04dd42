using System.Net.Http.Headers;
using SelfTaught.Web.Components.Layout;

namespace SelfTaught.Web.Tests.Http;

/// <summary>The dark-mode choice survives reloads: the browser stores a cookie, the server renders from it.</summary>
[Collection(WebAppCollection.Name)]
public sealed class ThemePreferenceTests(SelfTaughtWebFactory factory)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetPage_RendersDarkThemeOnFirstPaint_WhenCookieSaysDark()
    {
        var html = await GetPageAsync("/data", cookie: $"{ThemePreference.CookieName}=dark");

        Assert.Contains("data-theme=\"dark\"", html);
        Assert.Contains("color-scheme: dark", html);
        Assert.Contains("aria-pressed=\"true\"", html);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("light")]
    [InlineData("garbled")]
    public async Task GetPage_RendersLightTheme_WhenCookieIsMissingOrNotDark(string? value)
    {
        var html = await GetPageAsync("/", cookie: value is null ? null : $"{ThemePreference.CookieName}={value}");

        Assert.Contains("data-theme=\"light\"", html);
        Assert.DoesNotContain("data-theme=\"dark\"", html);
    }

    [Fact]
    public async Task GetThemeModule_WritesTheCookieTheServerReads_WhenServed()
    {
        using var client = factory.CreateClient();

        var script = await client.GetStringAsync(ThemePreference.ModulePath.TrimStart('.'), Cancellation);

        Assert.Contains("export function saveDarkMode", script);
        Assert.Contains($"\"{ThemePreference.CookieName}\"", script);
        Assert.Contains("path=/", script);
    }

    private async Task<string> GetPageAsync(string path, string? cookie)
    {
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        using var response = await client.SendAsync(request, Cancellation);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(Cancellation);
    }
}
