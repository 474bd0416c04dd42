namespace SelfTaught.SimBackend;

/// <summary>Errors the server can inject.</summary>
public enum SimFaultKind
{
    /// <summary>HTTP 429 with a <c>Retry-After</c> header (<see cref="SimOptions.RetryAfterSeconds"/>), in the protocol's error shape.</summary>
    Status429,

    /// <summary>HTTP 500 in the protocol's error shape.</summary>
    Status500,

    /// <summary>No answer: the request hangs until the client gives up (or the server stops).</summary>
    Timeout,

    /// <summary>The answer starts (status 200, part of the body), then the connection is aborted.</summary>
    DropConnection,

    /// <summary>HTTP 200 with a body that is not valid JSON (or a garbage stream line).</summary>
    InvalidJson,
}

/// <summary>Which requests a queued fault applies to.</summary>
public enum SimFaultScope
{
    /// <summary>Only chat requests (<c>/v1/chat/completions</c>, <c>/api/chat</c>).</summary>
    ChatRequests,

    /// <summary>Any request, including model listings and version.</summary>
    AllRequests,
}

/// <summary>A FIFO of faults for the next requests.</summary>
internal sealed class SimFaultQueue
{
    private readonly Lock _gate = new();
    private readonly LinkedList<(SimFaultKind Kind, SimFaultScope Scope)> _pending = new();

    public int Count
    {
        get
        {
            lock (_gate) return _pending.Count;
        }
    }

    public void Enqueue(int count, SimFaultKind kind, SimFaultScope scope)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            for (var i = 0; i < count; i++) _pending.AddLast((kind, scope));
        }
    }

    public void Clear()
    {
        lock (_gate) _pending.Clear();
    }

    /// <summary>Takes the first pending fault that applies to this request.</summary>
    public SimFaultKind? TryTake(bool isChat)
    {
        lock (_gate)
        {
            for (var node = _pending.First; node is not null; node = node.Next)
            {
                if (isChat || node.Value.Scope == SimFaultScope.AllRequests)
                {
                    _pending.Remove(node);
                    return node.Value.Kind;
                }
            }

            return null;
        }
    }
}
