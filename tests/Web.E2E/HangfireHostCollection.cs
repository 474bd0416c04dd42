namespace SelfTaught.Web.E2E;

/// <summary>
/// Tests that start the app host (and with it a Hangfire server) run one at a time: Hangfire's configuration is
/// process-global (STACK.md gotcha 14).
/// </summary>
[CollectionDefinition(nameof(HangfireHostCollection), DisableParallelization = true)]
public sealed class HangfireHostCollection;
