using static SelfTaught.Inference.Tests.Sim;

namespace SelfTaught.Inference.Tests;

public class ConcurrencyLimiterTests
{
    [Fact]
    public async Task WaitAsync_ServesWaitersInArrivalOrder_WithinTheLimit()
    {
        var limiter = new ConcurrencyLimiter(1);
        await limiter.WaitAsync(Ct);
        var order = new List<int>();
        var waiters = Enumerable.Range(0, 3).Select(async i =>
        {
            var wait = limiter.WaitAsync(Ct);
            await wait;
            lock (order) order.Add(i);
        }).ToList();

        Assert.Equal(3, limiter.Waiting);
        for (var i = 0; i < 3; i++)
        {
            limiter.Release();
            await ResilienceTests.WaitUntil(() => { lock (order) return order.Count == i + 1; });
            Assert.Equal(1, limiter.InUse);
        }
        await Task.WhenAll(waiters);

        Assert.Equal([0, 1, 2], order);
    }

    [Fact]
    public async Task SetLimit_AdmitsWaiters_WhenRaised_AndHoldsNewcomers_WhenLowered()
    {
        var limiter = new ConcurrencyLimiter(2);
        await limiter.WaitAsync(Ct);
        await limiter.WaitAsync(Ct);
        var third = limiter.WaitAsync(Ct);
        var fourth = limiter.WaitAsync(Ct);

        limiter.SetLimit(3);
        await third;
        Assert.False(fourth.IsCompleted);

        limiter.SetLimit(1);
        limiter.Release();
        limiter.Release();
        Assert.False(fourth.IsCompleted); // 1 in use, limit 1
        limiter.Release();
        await fourth;

        Assert.Equal(1, limiter.InUse);
        Assert.Equal(0, limiter.Waiting);
    }

    [Fact]
    public async Task WaitAsync_Cancelled_LeavesTheQueue_WithoutTakingASlot()
    {
        var limiter = new ConcurrencyLimiter(1);
        await limiter.WaitAsync(Ct);
        using var cancel = new CancellationTokenSource();
        var cancelled = limiter.WaitAsync(cancel.Token);
        var next = limiter.WaitAsync(Ct);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        limiter.Release();
        await next;

        Assert.Equal(1, limiter.InUse);
        Assert.Equal(0, limiter.Waiting);
    }
}
