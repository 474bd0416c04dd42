using SelfTaught.Inference.Middleware;

namespace SelfTaught.Inference.Tests;

public class ErrorClassificationTests
{
    // What SocketsHttpHandler throws when ConnectTimeout expires (the caller has not cancelled).
    private static Exception ConnectTimeout() =>
        new TaskCanceledException("The operation was canceled.",
            new TimeoutException("A connection could not be established within the configured ConnectTimeout."));

    [Fact]
    public void ConnectTimeout_IsTransient_AndDescribedAsAConnectionTimeout()
    {
        Assert.True(RetryingChatClient.IsTransient(ConnectTimeout(), out var retryAfter));
        Assert.Null(retryAfter);
        Assert.StartsWith($"connection timed out after {ChatClientFactory.ConnectTimeout.TotalSeconds:0} s", EndpointCallChatClient.Problem(ConnectTimeout()));
    }

    [Fact]
    public void ConnectTimeout_IsTransient_WhenWrappedByAClientLibrary()
    {
        var wrapped = new System.ClientModel.ClientResultException("request failed", null, ConnectTimeout());

        Assert.True(RetryingChatClient.IsTransient(wrapped, out _));
        Assert.StartsWith("connection timed out", EndpointCallChatClient.Problem(wrapped));
    }

    [Fact]
    public void PlainCancellation_IsNotTransient()
    {
        Assert.False(RetryingChatClient.IsTransient(new TaskCanceledException(), out _));
        Assert.False(RetryingChatClient.IsTransient(new InvalidOperationException("bug"), out _));
    }
}
