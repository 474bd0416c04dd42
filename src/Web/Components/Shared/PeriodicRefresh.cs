namespace SelfTaught.Web.Components.Shared;

/// <summary>
/// Polls for a component while something it shows can change (a stage run writes to the database, possibly from
/// another process): every <c>interval</c> it runs a refresh on the component's renderer, and stops when the refresh
/// says nothing more will change, or when disposed. <see cref="Start"/> starts it again.
/// </summary>
/// <param name="time">Clock whose timers pace the refresh (tests pass one they advance by hand).</param>
/// <param name="interval">Time between two refreshes.</param>
/// <param name="dispatch">Runs work on the component's renderer: the component's <c>InvokeAsync</c>.</param>
/// <param name="refresh">Reloads what the component shows; returns whether to keep polling.</param>
public sealed class PeriodicRefresh(
    TimeProvider time, TimeSpan interval, Func<Func<Task>, Task> dispatch, Func<CancellationToken, Task<bool>> refresh) : IDisposable
{
    private readonly CancellationTokenSource _disposed = new();
    private Task _loop = Task.CompletedTask;
    private int _starts;

    /// <summary>Whether a refresh is scheduled.</summary>
    public bool IsRunning => !_loop.IsCompleted;

    /// <summary>Starts polling, unless it already runs or the owner was disposed. Call it on the renderer.</summary>
    public void Start()
    {
        // A loop about to stop (its last refresh found nothing running) sees this and keeps going.
        Interlocked.Increment(ref _starts);
        if (IsRunning || _disposed.IsCancellationRequested)
        {
            return;
        }

        _loop = RunAsync(_disposed.Token);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var starts = Volatile.Read(ref _starts);
                var more = true;
                await dispatch(async () => more = await refresh(cancellationToken));
                if (!more && starts == Volatile.Read(ref _starts))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The component was disposed.
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away during a refresh.
        }
    }

    /// <summary>Stops polling; a refresh under way is cancelled.</summary>
    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }
}
