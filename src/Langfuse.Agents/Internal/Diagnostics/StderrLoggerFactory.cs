using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Diagnostics;

/// <summary>
/// The logger used without dependency injection: warnings and errors (and everything with <c>LANGFUSE_DEBUG</c>)
/// go to standard error, prefixed so they are easy to grep. Never throws: a broken stderr loses the line, not the app.
/// </summary>
internal sealed class StderrLoggerFactory(bool debug) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName, debug ? LogLevel.Debug : LogLevel.Information);

    public void AddProvider(ILoggerProvider provider)
    {
        // This factory has one fixed sink.
    }

    public void Dispose()
    {
        // Nothing to release.
    }

    private sealed class StderrLogger(string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            try
            {
                var level = logLevel switch
                {
                    LogLevel.Trace => "trce",
                    LogLevel.Debug => "dbug",
                    LogLevel.Information => "info",
                    LogLevel.Warning => "warn",
                    LogLevel.Error => "fail",
                    _ => "crit",
                };
                var line = $"[{category}] {level}: {formatter(state, exception)}";
                if (exception is not null)
                {
                    line += $" ({exception.GetType().Name}: {exception.Message})";
                }

                Console.Error.WriteLine(line);
            }
            catch (Exception)
            {
                // Logging must never break the application.
            }
        }
    }
}
