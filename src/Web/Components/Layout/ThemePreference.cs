namespace SelfTaught.Web.Components.Layout;

/// <summary>
/// The light/dark choice, kept in a cookie written by <c>wwwroot/js/theme.js</c> and read by the server during
/// prerendering so the first paint already has the chosen theme.
/// </summary>
public static class ThemePreference
{
    /// <summary>Cookie holding <c>dark</c> or <c>light</c>.</summary>
    public const string CookieName = "selftaught-theme";

    /// <summary>Name of the cascading value that carries the initial choice into the interactive layout.</summary>
    public const string CascadingName = "InitialDarkMode";

    /// <summary>JavaScript module that stores the choice.</summary>
    public const string ModulePath = "./js/theme.js";

    /// <summary>True when the cookie asks for dark mode; anything else (missing, garbled) means light.</summary>
    public static bool IsDark(string? cookieValue) =>
        string.Equals(cookieValue, "dark", StringComparison.OrdinalIgnoreCase);
}
