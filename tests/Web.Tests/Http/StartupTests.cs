namespace SelfTaught.Web.Tests.Http;

[Collection(WebAppCollection.Name)]
public sealed class StartupTests
{
    [Theory]
    [InlineData("Hangfire:Storage", "Redis")]
    [InlineData("Hangfire:WorkerCount", "0")]
    public async Task Start_FailsNamingTheKey_WhenHangfireSettingIsInvalid(string key, string value)
    {
        await using var factory = new SelfTaughtWebFactory().With(key, value);

        var error = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(error);
        var messages = string.Join(" | ", Flatten(error).Select(e => e.Message));
        Assert.Contains(key, messages);
    }

    private static IEnumerable<Exception> Flatten(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }
}
