using System.Net;
using SelfTaught.Web.JobDashboard;

namespace SelfTaught.Web.Tests.Unit;

public sealed class LoopbackOnlyDashboardAuthorizationFilterTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public void IsLoopback_ReturnsTrue_WhenAddressIsThisMachine(string address) =>
        Assert.True(LoopbackOnlyDashboardAuthorizationFilter.IsLoopback(IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.0.0.5")]
    [InlineData("172.17.0.1")]
    [InlineData("::ffff:192.168.1.20")]
    [InlineData("2001:db8::1")]
    public void IsLoopback_ReturnsFalse_WhenAddressIsAnotherMachine(string address) =>
        Assert.False(LoopbackOnlyDashboardAuthorizationFilter.IsLoopback(IPAddress.Parse(address)));

    [Fact]
    public void IsLoopback_ReturnsFalse_WhenAddressIsUnknown() =>
        Assert.False(LoopbackOnlyDashboardAuthorizationFilter.IsLoopback(null));
}
