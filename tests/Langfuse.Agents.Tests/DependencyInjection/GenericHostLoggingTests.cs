using Langfuse.Agents.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.DependencyInjection;

/// <summary>
/// The SDK under a real generic host (<c>Host.CreateApplicationBuilder</c>, default logging: console and friends at
/// Information) with a real logger provider capturing what the application's logs would show.
/// </summary>
public sealed class GenericHostLoggingTests : IAsyncLifetime, IDisposable
{
    private const string PublicKey = "pk-lf-test";
    private const string SecretKey = "sk-lf-test";
    private static readonly TimeSpan RealTimeGuard = LoadedMachine.HangGuard;

    private readonly CapturingProvider _logs = new();
    private FakeLangfuseServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { PublicKey = PublicKey, SecretKey = SecretKey });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _logs.Lines.ShouldAllBe(l => !l.Contains(SecretKey, StringComparison.Ordinal));
    }

    public void Dispose() => _logs.Dispose();

    [Fact]
    public async Task UnderAGenericHost_AHealthyExport_LogsNothingAtInformation()
    {
        using var host = BuildHost();
        await host.StartAsync();
        var tracer = host.Services.GetRequiredService<LangfuseTracer>();
        var atStart = _logs.Count;

        for (var i = 0; i < 3; i++)
        {
            EndSpan(tracer, $"healthy-{i}");
            (await tracer.FlushAsync(RealTimeGuard)).AllDelivered.ShouldBeTrue();
        }

        _server.Spans.Count.ShouldBe(3);
        _logs.Since(atStart).ShouldBeEmpty("three exports, three requests: nothing worth a line at Information");
        await host.StopAsync();
    }

    [Fact]
    public async Task UnderAGenericHost_AnOutage_LogsOneWarning_AndItsRecoveryOneLineWithCounts_WithoutStackTraces()
    {
        using var host = BuildHost(o => o.MaxRetries = 2);
        await host.StartAsync();
        var tracer = host.Services.GetRequiredService<LangfuseTracer>();
        var atStart = _logs.Count;
        _server.FailAll(503);

        EndSpan(tracer, "lost-1");
        (await tracer.FlushAsync(RealTimeGuard)).Dropped.ShouldBe(1);
        EndSpan(tracer, "lost-2");
        (await tracer.FlushAsync(RealTimeGuard)).Dropped.ShouldBe(1);
        _server.Requests.Count.ShouldBe(6, "two batches, three attempts each");

        var outage = _logs.Since(atStart);
        var warning = outage.ShouldHaveSingleItem("six failed attempts are one outage: one line");
        warning.Level.ShouldBe(LogLevel.Warning);
        warning.Message.ShouldContain("Langfuse delivery is failing (HTTP 503)");

        _server.Heal();
        var beforeRecovery = _logs.Count;
        EndSpan(tracer, "back");
        (await tracer.FlushAsync(RealTimeGuard)).AllDelivered.ShouldBeTrue();

        var recovery = _logs.Since(beforeRecovery).ShouldHaveSingleItem();
        recovery.Level.ShouldBe(LogLevel.Information);
        recovery.Message.ShouldContain("6 attempts failed meanwhile; 2 items could not be sent then, 0 of them kept on disk (sent from there now) and 2 dropped");
        _logs.Since(atStart).ShouldAllBe(e => e.Exception == null && !e.Message.Contains("   at ", StringComparison.Ordinal), "stack traces only with LANGFUSE_DEBUG");
        await host.StopAsync();
    }

    [Fact]
    public async Task UnderAGenericHost_AnUnreachableLangfuse_LogsOneWarningWithoutAStackTrace()
    {
        using var host = BuildHost(o =>
        {
            o.BaseUrl = new Uri("http://127.0.0.1:1/");
            o.MaxRetries = 2;
        });
        await host.StartAsync();
        var tracer = host.Services.GetRequiredService<LangfuseTracer>();
        var atStart = _logs.Count;

        EndSpan(tracer, "nowhere");
        (await tracer.FlushAsync(RealTimeGuard)).Dropped.ShouldBe(1);

        var warning = _logs.Since(atStart).ShouldHaveSingleItem();
        warning.Message.ShouldContain("HttpRequestException");
        warning.Exception.ShouldBeNull("stack traces only with LANGFUSE_DEBUG");
        await host.StopAsync();
    }

    private static void EndSpan(LangfuseTracer tracer, string name)
    {
        using var root = tracer.StartTrace(name);
    }

    private IHost BuildHost(Action<LangfuseOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.AddProvider(_logs);
        builder.Services.AddLangfuse(o =>
        {
            o.PublicKey = PublicKey;
            o.SecretKey = SecretKey;
            o.BaseUrl = _server.BaseUrl;
            o.BufferEnabled = false;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(1);
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(100);
            o.FlushInterval = TimeSpan.FromMinutes(1);
            o.CircuitBreakerFailures = 50; // every attempt really goes out
            configure?.Invoke(o);
        });
        return builder.Build();
    }

    /// <summary>A real logger provider: it sees what the host's filters let through, as the console would.</summary>
    private sealed class CapturingProvider : ILoggerProvider
    {
        private readonly Lock _lock = new();
        private readonly List<Entry> _entries = [];

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _entries.Count;
                }
            }
        }

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lock)
                {
                    return [.. _entries.Select(static e => $"{e.Level} {e.Category}: {e.Message} {e.Exception}")];
                }
            }
        }

        public IReadOnlyList<Entry> Since(int index)
        {
            lock (_lock)
            {
                return [.. _entries.Skip(index)];
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        public sealed record Entry(LogLevel Level, string Category, string Message, Exception? Exception)
        {
            public override string ToString() => $"{Level} {Category}: {Message}";
        }

        private sealed class Logger(CapturingProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._lock)
                {
                    owner._entries.Add(new Entry(logLevel, category, formatter(state, exception), exception));
                }
            }
        }
    }
}
