using Bunit;
using Microsoft.AspNetCore.Components;
using MudBlazor.Services;
using SelfTaught.Web.Components.Layout;

namespace SelfTaught.Web.Tests.Components;

public sealed class MainLayoutTests : BunitContext
{
    public MainLayoutTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    private IRenderedComponent<MainLayout> RenderLayout(bool initialDarkMode) =>
        Render<MainLayout>(parameters => parameters
            .AddCascadingValue(ThemePreference.CascadingName, initialDarkMode)
            .Add(layout => layout.Body, (RenderFragment)(body => body.AddContent(0, "page body"))));

    [Fact]
    public void Render_ShowsNineSectionLinksInOrder_WhenRendered()
    {
        var cut = RenderLayout(initialDarkMode: false);

        var links = cut.FindAll("nav a.mud-nav-link, .mud-navmenu a.mud-nav-link")
            .Select(a => (Id: a.Id, Href: a.GetAttribute("href"), Text: a.TextContent.Trim()))
            .ToList();

        Assert.Equal(
            [
                ("nav-dashboard", "/", "Dashboard"),
                ("nav-data", "/data", "Data"),
                ("nav-experiments", "/experiments", "Experiments"),
                ("nav-pairs", "/pairs", "Pairs"),
                ("nav-judgments", "/judgments", "Judgments"),
                ("nav-evaluations", "/evaluations", "Evaluations"),
                ("nav-audit", "/audit", "Audit"),
                ("nav-jobs", "/jobs", "Jobs"),
                ("nav-settings", "/settings", "Settings"),
            ],
            links);
        Assert.Contains("SelfTaught", cut.Find(".mud-appbar").TextContent);
        Assert.Contains("page body", cut.Markup);
    }

    [Fact]
    public void Render_UsesLightTheme_WhenNoDarkModeWasChosen()
    {
        var cut = RenderLayout(initialDarkMode: false);

        Assert.Equal("light", cut.Find(".mud-layout").GetAttribute("data-theme"));
        Assert.Equal("false", cut.Find("button[aria-label='Toggle dark mode']").GetAttribute("aria-pressed"));
    }

    [Fact]
    public void Render_UsesDarkTheme_WhenDarkModeWasChosenEarlier()
    {
        var cut = RenderLayout(initialDarkMode: true);

        Assert.Equal("dark", cut.Find(".mud-layout").GetAttribute("data-theme"));
        Assert.Equal("true", cut.Find("button[aria-label='Toggle dark mode']").GetAttribute("aria-pressed"));
    }

    [Fact]
    public void ToggleDarkMode_SwitchesThemeAndSavesChoice_WhenClicked()
    {
        var module = JSInterop.SetupModule(ThemePreference.ModulePath);
        module.SetupVoid("saveDarkMode", _ => true).SetVoidResult();
        var cut = RenderLayout(initialDarkMode: false);

        cut.Find("button[aria-label='Toggle dark mode']").Click();

        Assert.Equal("dark", cut.Find(".mud-layout").GetAttribute("data-theme"));
        Assert.Equal([true], module.VerifyInvoke("saveDarkMode").Arguments);

        cut.Find("button[aria-label='Toggle dark mode']").Click();

        Assert.Equal("light", cut.Find(".mud-layout").GetAttribute("data-theme"));
        Assert.Equal([false], module.VerifyInvoke("saveDarkMode", calledTimes: 2)[1].Arguments);
    }
}
