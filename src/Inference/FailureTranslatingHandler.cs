using System.Net;

namespace SelfTaught.Inference;

/// <summary>
/// Turns every non-success HTTP answer into a <see cref="BackendHttpException"/> below both client libraries, so
/// retries see the status and <c>Retry-After</c> the same way for Ollama and OpenAI-compatible servers.
/// </summary>
public sealed class FailureTranslatingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private const int MaxBodyChars = 500;

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode) return response;

        using (response)
        {
            string body;
            try
            {
                body = await response.Content.ReadAsStringAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                body = "";
            }
            body = body.Length > MaxBodyChars ? body[..MaxBodyChars] + "…" : body;
            throw new BackendHttpException(response.StatusCode, response.ReasonPhrase, body.Trim(), RetryAfter(response));
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
    }

    /// <summary>Whether a status is worth retrying: 408, 429 and 5xx.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;
}
