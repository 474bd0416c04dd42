namespace SelfTaught.Web;

/// <summary>Reports a configuration or database problem that stops start-up: one clear message, no stack trace.</summary>
public static partial class StartupFailure
{
    /// <summary>Exit code of a start-up that was refused.</summary>
    public const int ExitCode = 1;

    /// <summary>Logs <paramref name="message"/> as critical and repeats it on standard error; returns <see cref="ExitCode"/>.</summary>
    public static int Report(ILogger logger, string message)
    {
        LogRefused(logger, message);
        Console.Error.WriteLine($"SelfTaught did not start: {message}");
        return ExitCode;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "SelfTaught did not start: {Problem}")]
    private static partial void LogRefused(ILogger logger, string problem);
}
