using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Diagnostics;

/// <summary>
/// The SDK's view of the application's logger factory: without <c>LANGFUSE_DEBUG</c>, exceptions are logged as their
/// type and message only, so an outage or a bug in the SDK never prints stack traces into the application's logs.
/// With debug on, loggers are passed through unchanged. Does not own the inner factory.
/// </summary>
internal sealed class QuietLoggerFactory(ILoggerFactory inner, bool debug) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return debug ? logger : new QuietLogger(logger);
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The application owns the inner factory.
    }

    private sealed class QuietLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (exception is null)
            {
                inner.Log(logLevel, eventId, state, null, formatter);
                return;
            }

            var summary = $"{exception.GetType().Name}: {exception.Message}";
            inner.Log(logLevel, eventId, state, null, (s, _) => $"{formatter(s, exception)} ({summary})");
        }
    }
}
