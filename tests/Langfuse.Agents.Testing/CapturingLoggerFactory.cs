using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Testing;

/// <summary>
/// An <see cref="ILoggerFactory"/> that keeps every log entry (all levels, all categories) in memory, thread-safe,
/// so tests can assert on what an SDK logged and wait for a line instead of sleeping.
/// </summary>
public sealed class CapturingLoggerFactory : ILoggerFactory
{
    private static readonly TimeSpan DefaultWaitTimeout = LoadedMachine.HangGuard;

    private readonly Lock _lock = new();
    private readonly List<CapturedLogEntry> _entries = [];
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Every entry so far, in the order written (a snapshot).</summary>
    public IReadOnlyList<CapturedLogEntry> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>Every entry so far as one formatted line: <c>level category: message</c> and the exception, if any.</summary>
    public IReadOnlyList<string> Lines => [.. Entries.Select(static e => e.ToString())];

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    /// <summary>Providers are not used: everything is captured whatever the category.</summary>
    public void AddProvider(ILoggerProvider provider)
    {
    }

    /// <summary>Completes once an entry matching <paramref name="predicate"/> has been written; returns it.</summary>
    /// <exception cref="TimeoutException">None within <paramref name="timeout"/> (default <see cref="LoadedMachine.HangGuard"/>, real time); the message lists the lines.</exception>
    public async Task<CapturedLogEntry> WaitForAsync(Func<CapturedLogEntry, bool> predicate, TimeSpan? timeout = null, string? description = null)
    {
        await WaitForCountAsync(predicate, 1, timeout, description).ConfigureAwait(false);
        lock (_lock)
        {
            return _entries.First(predicate);
        }
    }

    /// <summary>Completes once at least <paramref name="count"/> entries match <paramref name="predicate"/>.</summary>
    /// <exception cref="TimeoutException">Fewer within <paramref name="timeout"/> (default <see cref="LoadedMachine.HangGuard"/>, real time).</exception>
    public async Task WaitForCountAsync(Func<CapturedLogEntry, bool> predicate, int count, TimeSpan? timeout = null, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var limit = timeout ?? DefaultWaitTimeout;
        using var cts = new CancellationTokenSource(limit);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_entries.Count(predicate) >= count)
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"Waited {limit} for {count} log line(s) {description ?? "matching the predicate"}. Logged:\n  {string.Join("\n  ", Lines)}");
            }
        }
    }

    /// <summary>Nothing to release.</summary>
    public void Dispose()
    {
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Add(CapturedLogEntry entry)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            _entries.Add(entry);
            signal = _changed;
            _changed = NewSignal();
        }

        signal.TrySetResult();
    }

    private sealed class CapturingLogger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            IReadOnlyList<KeyValuePair<string, object?>> values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? [.. pairs] : [];
            owner.Add(new CapturedLogEntry(logLevel, category, eventId, formatter(state, exception), values, exception));
        }
    }
}

/// <summary>One captured log entry.</summary>
/// <param name="Level">Its level.</param>
/// <param name="Category">The logger's category.</param>
/// <param name="EventId">Its event id.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Values">The structured values (template placeholders and <c>{OriginalFormat}</c>).</param>
/// <param name="Exception">The exception logged with it, if any.</param>
public sealed record CapturedLogEntry(
    LogLevel Level,
    string Category,
    EventId EventId,
    string Message,
    IReadOnlyList<KeyValuePair<string, object?>> Values,
    Exception? Exception)
{
    /// <summary>A structured value by placeholder name, or null.</summary>
    public object? Value(string name) => Values.FirstOrDefault(v => v.Key == name).Value;

    /// <inheritdoc />
    public override string ToString() => Exception is null
        ? $"{Level} {Category}: {Message}"
        : $"{Level} {Category}: {Message} {Exception}";
}
