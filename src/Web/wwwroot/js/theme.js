// Remembers the light/dark choice in a cookie: the server reads it while prerendering, so the next visit
// starts in the chosen theme without a flash of the other one.
const cookieName = "selftaught-theme";
const oneYearInSeconds = 60 * 60 * 24 * 365;

export function saveDarkMode(isDark) {
    const value = isDark ? "dark" : "light";
    document.cookie = `${cookieName}=${value}; path=/; max-age=${oneYearInSeconds}; samesite=lax`;
    document.documentElement.style.colorScheme = value;
}
