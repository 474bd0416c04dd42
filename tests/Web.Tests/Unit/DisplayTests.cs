using SelfTaught.Web.Components.Shared;

namespace SelfTaught.Web.Tests.Unit;

public sealed class DisplayTests
{
    [Theory]
    [InlineData(null, "—")]
    [InlineData(0.5, "0.50 items/s")]
    [InlineData(12.345, "12.3 items/s")]
    [InlineData(1234.4, "1,234 items/s")]
    public void Rate_FormatsByMagnitude(double? perSecond, string expected) => Assert.Equal(expected, Display.Rate(perSecond, "items"));

    [Theory]
    [InlineData(null, "—")]
    [InlineData(0.4, "0s")]
    [InlineData(42.0, "42s")]
    [InlineData(300.0, "5m 00s")]
    [InlineData(3725.0, "1h 02m")]
    [InlineData(double.NaN, "—")]
    [InlineData(double.PositiveInfinity, "—")]
    public void Duration_FormatsSecondsMinutesHours(double? seconds, string expected) => Assert.Equal(expected, Display.Duration(seconds));
}
