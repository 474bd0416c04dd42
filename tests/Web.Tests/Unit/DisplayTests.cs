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

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(1536L, "1.50 KB")]
    [InlineData(25_000_000L, "23.8 MB")]
    [InlineData(3_000_000_000L, "2.79 GB")]
    public void Bytes_FormatsWithBinaryUnits(long bytes, string expected) => Assert.Equal(expected, Display.Bytes(bytes));
}
