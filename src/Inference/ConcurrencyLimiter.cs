namespace SelfTaught.Inference;

/// <summary>
/// An async limiter whose limit can change while callers hold and wait for slots: waiters are served first in, first
/// out, and a slot is granted only while fewer than the current limit are in use. Lowering the limit lets the holders
/// finish; nobody new starts until the count drops below the new limit. Thread-safe.
/// </summary>
public sealed class ConcurrencyLimiter
{
    private readonly Lock _gate = new();
    private readonly LinkedList<TaskCompletionSource> _waiters = new();
    private int _limit;
    private int _inUse;

    /// <summary>Creates a limiter allowing <paramref name="limit"/> holders at once.</summary>
    public ConcurrencyLimiter(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _limit = limit;
    }

    /// <summary>The current limit.</summary>
    public int Limit
    {
        get { lock (_gate) return _limit; }
    }

    /// <summary>Slots held right now (may exceed <see cref="Limit"/> briefly after the limit was lowered).</summary>
    public int InUse
    {
        get { lock (_gate) return _inUse; }
    }

    /// <summary>Callers waiting for a slot.</summary>
    public int Waiting
    {
        get { lock (_gate) return _waiters.Count; }
    }

    /// <summary>Waits for a slot; every successful wait must be paired with one <see cref="Release"/>.</summary>
    public Task WaitAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        LinkedListNode<TaskCompletionSource> node;
        lock (_gate)
        {
            // Queued callers go first even when a slot is free, so nobody overtakes them.
            if (_inUse < _limit && _waiters.Count == 0)
            {
                _inUse++;
                return Task.CompletedTask;
            }
            node = _waiters.AddLast(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
        return cancellationToken.CanBeCanceled ? WaitCancellableAsync(node, cancellationToken) : node.Value.Task;
    }

    /// <summary>Returns a slot and hands it to the longest waiter if the limit allows.</summary>
    public void Release()
    {
        List<TaskCompletionSource> granted;
        lock (_gate)
        {
            if (_inUse == 0) throw new InvalidOperationException("Release without a matching WaitAsync.");
            _inUse--;
            granted = GrantLocked();
        }
        foreach (var waiter in granted) waiter.TrySetResult();
    }

    /// <summary>Changes the limit; a higher limit admits waiters at once.</summary>
    public void SetLimit(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        List<TaskCompletionSource> granted;
        lock (_gate)
        {
            _limit = limit;
            granted = GrantLocked();
        }
        foreach (var waiter in granted) waiter.TrySetResult();
    }

    private List<TaskCompletionSource> GrantLocked()
    {
        var granted = new List<TaskCompletionSource>();
        while (_inUse < _limit && _waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            _inUse++;
            granted.Add(first.Value);
        }
        return granted;
    }

    private async Task WaitCancellableAsync(LinkedListNode<TaskCompletionSource> node, CancellationToken cancellationToken)
    {
        await using (cancellationToken.UnsafeRegister(static (state, token) =>
                     {
                         var (limiter, waiter) = ((ConcurrencyLimiter, LinkedListNode<TaskCompletionSource>))state!;
                         limiter.Cancel(waiter, token);
                     }, (this, node)))
        {
            await node.Value.Task.ConfigureAwait(false);
        }
    }

    private void Cancel(LinkedListNode<TaskCompletionSource> node, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Already granted: the caller owns the slot and releases it as usual.
            if (node.List is null) return;
            _waiters.Remove(node);
        }
        node.Value.TrySetCanceled(cancellationToken);
    }
}
