namespace SelfTaught.Web.Tests.Infrastructure;

/// <summary>A clock that stands still, so rates and ETAs computed from it are exact. Timers still run in real time.</summary>
public sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
