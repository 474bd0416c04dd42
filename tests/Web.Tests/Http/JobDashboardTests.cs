using System.Net;
using Microsoft.AspNetCore.Http;

namespace SelfTaught.Web.Tests.Http;

[Collection(WebAppCollection.Name)]
public sealed class JobDashboardTests(SelfTaughtWebFactory factory)
{
    [Fact]
    public async Task GetDashboard_IsDenied_WhenRemoteAddressIsUnknown()
    {
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/hangfire", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task GetDashboard_IsDenied_WhenRequestComesFromAnotherMachine()
    {
        var context = await factory.Server.SendAsync(request =>
        {
            request.Request.Method = HttpMethods.Get;
            request.Request.Path = "/hangfire";
            request.Connection.RemoteIpAddress = IPAddress.Parse("192.168.1.20");
        }, TestContext.Current.CancellationToken);

        Assert.Equal(StatusCodes.Status401Unauthorized, context.Response.StatusCode);
    }

    [Fact]
    public async Task GetDashboard_IsServed_WhenRequestComesFromLoopback()
    {
        var context = await factory.Server.SendAsync(request =>
        {
            request.Request.Method = HttpMethods.Get;
            request.Request.Path = "/hangfire";
            request.Connection.RemoteIpAddress = IPAddress.Loopback;
        }, TestContext.Current.CancellationToken);

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        using var reader = new StreamReader(context.Response.Body);
        Assert.Contains("SelfTaught jobs", await reader.ReadToEndAsync(TestContext.Current.CancellationToken));
    }
}
