namespace SelfTaught.Web.Tests.Infrastructure;

/// <summary>
/// A clock whose timers fire only when a test calls <see cref="Fire"/>, so periodic refreshes happen exactly when the
/// test wants them and never otherwise. The time of day is the system's.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _timers = [];

    /// <summary>Timers created with this period and not disposed yet.</summary>
    public int ActiveTimers(TimeSpan period)
    {
        lock (_gate)
        {
            return _timers.Count(t => t.Period == period);
        }
    }

    /// <summary>Runs the callback of every live timer with this period once, as if the period had passed.</summary>
    /// <returns>How many timers fired.</returns>
    public int Fire(TimeSpan period)
    {
        ManualTimer[] due;
        lock (_gate)
        {
            due = [.. _timers.Where(t => t.Period == period)];
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }

        return due.Length;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state, period);
        lock (_gate)
        {
            _timers.Add(timer);
        }

        return timer;
    }

    private void Remove(ManualTimer timer)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state, TimeSpan period) : ITimer
    {
        public TimeSpan Period { get; private set; } = period;

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Period = period;
            return true;
        }

        public void Dispose() => owner.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
