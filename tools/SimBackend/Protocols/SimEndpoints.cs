using System.Text.Json.Nodes;
using SelfTaught.SimBackend.Generation;

namespace SelfTaught.SimBackend.Protocols;

/// <summary>The routes and the request pipeline shared by both protocols.</summary>
internal static class SimEndpoints
{
    public static void Map(WebApplication app, SimServer server)
    {
        app.Use(async (context, next) =>
        {
            // Every answer says it is simulated, even errors.
            context.Response.Headers["X-SimBackend"] = "simulated";
            await next(context);
        });

        app.MapPost(SimRoutes.OpenAIChat, context => ChatAsync(context, server, OpenAIWire.Instance, SimRoutes.OpenAIChat));
        app.MapPost(SimRoutes.OllamaChat, context => ChatAsync(context, server, OllamaWire.Instance, SimRoutes.OllamaChat));

        app.MapGet(SimRoutes.OpenAIModels, context => OtherAsync(context, server, OpenAIWire.Instance, SimRoutes.OpenAIModels, ct =>
            Wire.WriteJsonAsync(context, 200, ModelList(server.Options), ct)));
        app.MapGet(SimRoutes.OpenAIModels + "/{*id}", context => OtherAsync(context, server, OpenAIWire.Instance, SimRoutes.OpenAIModels, ct =>
        {
            var id = (string)context.Request.RouteValues["id"]!;
            var model = SimModels.Resolve(id, server.Options);
            return model is null
                ? OpenAIWire.Instance.WriteErrorAsync(context, 404, SimErrorKind.ModelNotFound, ModelNotFoundMessage(SimProtocol.OpenAI, id), ct)
                : Wire.WriteJsonAsync(context, 200, ModelObject(model), ct);
        }));
        app.MapGet(SimRoutes.OllamaTags, context => OtherAsync(context, server, OllamaWire.Instance, SimRoutes.OllamaTags, ct =>
            Wire.WriteJsonAsync(context, 200, Tags(server.Options), ct)));
        app.MapGet(SimRoutes.OllamaVersion, context => OtherAsync(context, server, OllamaWire.Instance, SimRoutes.OllamaVersion, ct =>
            Wire.WriteJsonAsync(context, 200, new JsonObject { ["version"] = server.Options.OllamaVersion }, ct)));
        app.MapMethods(SimRoutes.Root, ["GET", "HEAD"], context => OtherAsync(context, server, OllamaWire.Instance, SimRoutes.Root, async ct =>
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            Wire.Finishing(context);
            if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.WriteAsync("Ollama is running (simulated by SelfTaught SimBackend)", ct);
        }));

        app.MapFallback(async context =>
        {
            server.Stats.Count(SimRoutes.Unmatched);
            var record = Record(server, context, SimRoutes.Unmatched, null, null, "");
            context.Response.StatusCode = 404;
            record.StatusCode = 404;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("404 page not found (simulated)", context.RequestAborted);
        });
    }

    private static async Task ChatAsync(HttpContext context, SimServer server, IWireProtocol wire, string route)
    {
        server.Stats.Count(route);
        server.Stats.EnterChat();
        ReceivedRequest? record = null;
        var aborted = false;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.Stopping);
        var ct = cts.Token;
        try
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(ct);
            var request = wire.Parse(body);
            var received = record = Record(server, context, route, wire.Kind, request, body);
            Wire.OnFinishing(context, () =>
            {
                // A dropped connection has no status; the client sees the abort.
                if (received.Fault != SimFaultKind.DropConnection) received.StatusCode = context.Response.StatusCode;
                server.Stats.ExitChat();
            });
            await server.WaitIfHeldAsync(ct);
            var options = server.Options.Clone(); // one consistent view of the live options, taken after any hold

            if (!Authorized(context, options))
            {
                await wire.WriteErrorAsync(context, 401, SimErrorKind.Unauthorized, UnauthorizedMessage(wire.Kind), ct);
                return;
            }

            var fault = server.TakeQueuedFault(isChat: true) ?? DrawFault(options, record.Sequence);
            if (fault is { } kind)
            {
                record.Fault = kind;
                aborted = await InjectAsync(context, wire, kind, request.Stream, request.Model ?? "unknown", options, ct);
                return;
            }

            if (request.Error is { } error)
            {
                await wire.WriteErrorAsync(context, 400, SimErrorKind.InvalidRequest, error, ct);
                return;
            }

            if (string.IsNullOrWhiteSpace(request.Model))
            {
                await wire.WriteErrorAsync(context, 400, SimErrorKind.InvalidRequest,
                    wire.Kind == SimProtocol.OpenAI ? "You must provide a model parameter. (simulated)" : "model is required (simulated)", ct);
                return;
            }

            var model = SimModels.Resolve(request.Model, options);
            if (model is null)
            {
                await wire.WriteErrorAsync(context, 404, SimErrorKind.ModelNotFound, ModelNotFoundMessage(wire.Kind, request.Model), ct);
                return;
            }

            var n = wire.Kind == SimProtocol.OpenAI ? request.N ?? 1 : 1; // Ollama has no n
            if (n > 1 && options.NMode == SimNMode.Reject500)
            {
                await wire.WriteErrorAsync(context, 500, SimErrorKind.NotSupported, "Only one completion choice is allowed", ct);
                return;
            }

            var completion = Complete(server, options, request, model, n);
            await wire.WriteCompletionAsync(context, request, completion, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client gave up or the server is stopping: nothing more to send.
            aborted = true;
            context.Abort();
        }
        finally
        {
            if (record is null)
            {
                server.Stats.ExitChat(); // the body could not be read
            }
            else
            {
                // Usually done already, just before the last write; here for answers cut short.
                Wire.Finishing(context);
                if (aborted) record.StatusCode = 0;
            }
        }
    }

    /// <summary>Model listings, version and root: counted, recorded, subject to faults scoped to all requests.</summary>
    private static async Task OtherAsync(HttpContext context, SimServer server, IWireProtocol wire, string route, Func<CancellationToken, Task> respond)
    {
        server.Stats.Count(route);
        var record = Record(server, context, route, wire.Kind, null, "");
        Wire.OnFinishing(context, () =>
        {
            if (record.Fault != SimFaultKind.DropConnection) record.StatusCode = context.Response.StatusCode;
        });
        var aborted = false;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.Stopping);
        var ct = cts.Token;
        try
        {
            var options = server.Options.Clone();
            if (route != SimRoutes.Root && route != SimRoutes.OllamaVersion && !Authorized(context, options))
            {
                await wire.WriteErrorAsync(context, 401, SimErrorKind.Unauthorized, UnauthorizedMessage(wire.Kind), ct);
                return;
            }

            if (server.TakeQueuedFault(isChat: false) is { } kind)
            {
                record.Fault = kind;
                aborted = await InjectAsync(context, wire, kind, stream: false, "none", options, ct);
                return;
            }

            await respond(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            aborted = true;
            context.Abort();
        }
        finally
        {
            Wire.Finishing(context);
            if (aborted) record.StatusCode = 0;
        }
    }

    /// <summary>Answers with a fault; returns true when the connection was aborted.</summary>
    private static async Task<bool> InjectAsync(
        HttpContext context, IWireProtocol wire, SimFaultKind kind, bool stream, string model, SimOptions options, CancellationToken ct)
    {
        switch (kind)
        {
            case SimFaultKind.Status429:
                context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await wire.WriteErrorAsync(context, 429, SimErrorKind.RateLimited,
                    wire.Kind == SimProtocol.OpenAI
                        ? $"Rate limit reached (simulated). Please try again in {options.RetryAfterSeconds}s."
                        : "server busy, please try again. maximum pending requests exceeded (simulated)",
                    ct);
                return false;
            case SimFaultKind.Status500:
                await wire.WriteErrorAsync(context, 500, SimErrorKind.ServerError,
                    wire.Kind == SimProtocol.OpenAI
                        ? "The server had an error while processing your request. Sorry about that! (simulated)"
                        : "llama runner process has terminated: exit status 2 (simulated)",
                    ct);
                return false;
            case SimFaultKind.Timeout:
                // Hang until the client gives up (request aborted) or the server stops.
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                return true;
            case SimFaultKind.DropConnection:
                await new Pacer().WaitUntilAsync(TimeSpan.FromMilliseconds(options.LatencyMs), ct);
                await wire.WritePartialAsync(context, stream, model, ct);
                context.Abort();
                return true;
            case SimFaultKind.InvalidJson:
                await wire.WriteGarbageAsync(context, stream, ct);
                return false;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>Probabilistic faults, drawn from a stream seeded by the server seed and the request's sequence number.</summary>
    private static SimFaultKind? DrawFault(SimOptions options, long sequence)
    {
        var rates = new (double Rate, SimFaultKind Kind)[]
        {
            (options.Rate429, SimFaultKind.Status429),
            (options.Rate500, SimFaultKind.Status500),
            (options.RateTimeout, SimFaultKind.Timeout),
            (options.RateDropConnection, SimFaultKind.DropConnection),
            (options.RateInvalidJson, SimFaultKind.InvalidJson),
        };
        if (rates.All(r => r.Rate <= 0)) return null;
        var draw = SimRandom.From(options.Seed, "fault", sequence).NextDouble();
        var cumulative = 0.0;
        foreach (var (rate, kind) in rates)
        {
            cumulative += rate;
            if (draw < cumulative) return kind;
        }

        return null;
    }

    /// <summary>Generates the choices. Choice i of a request with seed s is sample s + i; without a seed, a server counter numbers samples.</summary>
    internal static SimCompletion Complete(SimServer server, SimOptions options, ParsedChatRequest request, string model, int n)
    {
        var prompt = SimPrompts.Recognize(request.Messages);
        var promptKey = string.Join('\u001E', request.Messages.Select(m => m.Role + "\u001F" + m.Content));
        var settings = new GenerationSettings(
            options.JudgeAccuracyFor(model), options.MalformedRate, options.UnbracketedMarkerRate,
            options.AnswerMinWords, options.AnswerMaxWords, options.MathAccuracy, options.MathAnswerKey);
        var greedy = options.GreedyAtZeroTemperature && request.Temperature == 0;
        var unseededBase = request.Seed is null && !greedy ? server.NextUnseeded(n) : 0;

        var choices = new List<SimChoice>(n);
        for (var i = 0; i < n; i++)
        {
            var sampleKey = greedy ? "greedy" : request.Seed is { } seed ? $"seed:{seed + i}" : $"counter:{unseededBase + i}";
            var rng = SimRandom.From(options.Seed, SimModels.BaseName(model), promptKey, sampleKey);
            var text = SimGenerator.Generate(prompt, settings, rng);
            choices.Add(Finish(i, text, request.StopSequences, request.MaxTokens));
        }

        return new SimCompletion(
            "chatcmpl-sim" + Guid.NewGuid().ToString("N")[..20],
            request.Model!,
            DateTimeOffset.UtcNow,
            choices,
            SimTokenizer.CountPromptTokens(request.Messages.Select(m => m.Content)),
            options.LatencyMs,
            options.PerTokenMs);
    }

    /// <summary>Applies stop sequences (cut before the first) and the token limit (finish reason <c>length</c>).</summary>
    internal static SimChoice Finish(int index, string text, IReadOnlyList<string> stop, int? maxTokens)
    {
        var finish = "stop";
        var cut = stop.Where(s => s.Length > 0).Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (cut >= 0) text = text[..cut];
        var tokens = SimTokenizer.Split(text);
        if (maxTokens is > 0 and var limit && tokens.Count > limit)
        {
            tokens = tokens.Take(limit).ToList();
            finish = "length";
        }

        return new SimChoice(index, string.Concat(tokens), finish, tokens);
    }

    private static ReceivedRequest Record(SimServer server, HttpContext context, string route, SimProtocol? protocol, ParsedChatRequest? request, string body)
    {
        var record = new ReceivedRequest
        {
            Sequence = server.Stats.NextSequence(),
            ReceivedAt = DateTimeOffset.UtcNow,
            Method = context.Request.Method,
            Route = route,
            Path = context.Request.Path.Value ?? "",
            Protocol = protocol,
            Model = request?.Model,
            Stream = request?.Stream ?? false,
            Temperature = request?.Temperature,
            TopP = request?.TopP,
            MaxTokens = request?.MaxTokens,
            Seed = request?.Seed,
            N = request?.N,
            Stop = request?.StopSequences ?? [],
            NumCtx = request?.NumCtx,
            IncludeUsage = request?.IncludeUsage,
            Messages = request?.Messages ?? [],
            Authorization = context.Request.Headers.Authorization.FirstOrDefault(),
            Body = body,
        };
        server.Stats.Record(record);
        return record;
    }

    private static bool Authorized(HttpContext context, SimOptions options) =>
        options.RequiredApiKey is not { } key
        || string.Equals(context.Request.Headers.Authorization.FirstOrDefault(), "Bearer " + key, StringComparison.Ordinal);

    private static string UnauthorizedMessage(SimProtocol protocol) => protocol == SimProtocol.OpenAI
        ? "Incorrect API key provided. (simulated)"
        : "unauthorized (simulated)";

    internal static string ModelNotFoundMessage(SimProtocol protocol, string model) => protocol == SimProtocol.OpenAI
        ? $"The model `{model}` does not exist or you do not have access to it. (simulated)"
        : $"model \"{model}\" not found, try pulling it first";

    private static JsonObject ModelObject(string model) => new()
    {
        ["id"] = model,
        ["object"] = "model",
        ["created"] = SimModels.ModifiedAt(model).ToUnixTimeSeconds(),
        ["owned_by"] = "simbackend",
    };

    private static JsonObject ModelList(SimOptions options)
    {
        var data = new JsonArray();
        foreach (var model in options.Models) data.Add(ModelObject(model));
        return new JsonObject { ["object"] = "list", ["data"] = data };
    }

    private static JsonObject Tags(SimOptions options)
    {
        var models = new JsonArray();
        foreach (var model in options.Models)
        {
            var name = SimModels.TaggedName(model);
            models.Add(new JsonObject
            {
                ["name"] = name,
                ["model"] = name,
                ["modified_at"] = SimModels.ModifiedAt(model).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz", System.Globalization.CultureInfo.InvariantCulture),
                ["size"] = SimModels.SizeBytes(model),
                ["digest"] = SimModels.Digest(model),
                ["details"] = new JsonObject
                {
                    ["parent_model"] = "",
                    ["format"] = "gguf",
                    ["family"] = "simulated",
                    ["families"] = new JsonArray("simulated"),
                    ["parameter_size"] = "8.0B",
                    ["quantization_level"] = "Q4_K_M",
                },
            });
        }

        return new JsonObject { ["models"] = models };
    }
}
