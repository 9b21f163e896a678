using Langfuse.Agents.Internal.Configuration;
using Microsoft.Extensions.Configuration;
using Shouldly;
using Xunit;

// Test names follow the house style Method_Condition_Result (STYLE.md, item 13).
#pragma warning disable CA1707

namespace Langfuse.Agents.Tests.Configuration;

public sealed class LangfuseSettingsReaderTests
{
    private const string Secret = "sk-lf-READER-SECRET";
    private const string Public = "pk-lf-READER-PUBLIC";

    public static TheoryData<string, string, string, object?> ValidVariables => new()
    {
        { "LANGFUSE_PUBLIC_KEY", "pk-lf-1", nameof(LangfuseOptions.PublicKey), "pk-lf-1" },
        { "LANGFUSE_PUBLIC_KEY", "  pk-lf-1 \n", nameof(LangfuseOptions.PublicKey), "pk-lf-1" },
        { "LANGFUSE_SECRET_KEY", "sk-lf-1", nameof(LangfuseOptions.SecretKey), "sk-lf-1" },
        { "LANGFUSE_BASE_URL", "https://us.cloud.langfuse.com", nameof(LangfuseOptions.BaseUrl), new Uri("https://us.cloud.langfuse.com/") },
        { "LANGFUSE_BASE_URL", "https://us.cloud.langfuse.com/", nameof(LangfuseOptions.BaseUrl), new Uri("https://us.cloud.langfuse.com/") },
        { "LANGFUSE_BASE_URL", "http://localhost:3000", nameof(LangfuseOptions.BaseUrl), new Uri("http://localhost:3000/") },
        { "LANGFUSE_BASE_URL", "https://example.com/langfuse", nameof(LangfuseOptions.BaseUrl), new Uri("https://example.com/langfuse/") },
        { "LANGFUSE_BASE_URL", "https://example.com/langfuse/", nameof(LangfuseOptions.BaseUrl), new Uri("https://example.com/langfuse/") },
        { "LANGFUSE_HOST", "https://host.example", nameof(LangfuseOptions.BaseUrl), new Uri("https://host.example/") },
        { "LANGFUSE_BASEURL", "https://baseurl.example", nameof(LangfuseOptions.BaseUrl), new Uri("https://baseurl.example/") },
        { "LANGFUSE_TRACING_ENABLED", "false", nameof(LangfuseOptions.TracingEnabled), false },
        { "LANGFUSE_TRACING_ENABLED", "FALSE", nameof(LangfuseOptions.TracingEnabled), false },
        { "LANGFUSE_TRACING_ENABLED", " False ", nameof(LangfuseOptions.TracingEnabled), false },
        { "LANGFUSE_TRACING_ENABLED", "0", nameof(LangfuseOptions.TracingEnabled), true },
        { "LANGFUSE_TRACING_ENABLED", "no", nameof(LangfuseOptions.TracingEnabled), true },
        { "LANGFUSE_TRACING_ENABLED", "off", nameof(LangfuseOptions.TracingEnabled), true },
        { "LANGFUSE_TRACING_ENABLED", "true", nameof(LangfuseOptions.TracingEnabled), true },
        { "LANGFUSE_TIMEOUT", "10", nameof(LangfuseOptions.Timeout), TimeSpan.FromSeconds(10) },
        { "LANGFUSE_TIMEOUT", "2.5", nameof(LangfuseOptions.Timeout), TimeSpan.FromMilliseconds(2500) },
        { "LANGFUSE_FLUSH_AT", "1", nameof(LangfuseOptions.FlushAt), 1 },
        { "LANGFUSE_FLUSH_AT", "100", nameof(LangfuseOptions.FlushAt), 100 },
        { "LANGFUSE_FLUSH_INTERVAL", "0.25", nameof(LangfuseOptions.FlushInterval), TimeSpan.FromMilliseconds(250) },
        { "LANGFUSE_FLUSH_INTERVAL", "10", nameof(LangfuseOptions.FlushInterval), TimeSpan.FromSeconds(10) },
        { "LANGFUSE_SAMPLE_RATE", "0", nameof(LangfuseOptions.SampleRate), 0.0 },
        { "LANGFUSE_SAMPLE_RATE", "0.25", nameof(LangfuseOptions.SampleRate), 0.25 },
        { "LANGFUSE_SAMPLE_RATE", "1", nameof(LangfuseOptions.SampleRate), 1.0 },
        { "LANGFUSE_TRACING_ENVIRONMENT", "production", nameof(LangfuseOptions.Environment), "production" },
        { "LANGFUSE_RELEASE", "v1.2.3", nameof(LangfuseOptions.Release), "v1.2.3" },
        { "LANGFUSE_DEBUG", "true", nameof(LangfuseOptions.Debug), true },
        { "LANGFUSE_DEBUG", "TRUE", nameof(LangfuseOptions.Debug), true },
        { "LANGFUSE_DEBUG", "1", nameof(LangfuseOptions.Debug), true },
        { "LANGFUSE_DEBUG", "yes", nameof(LangfuseOptions.Debug), true },
        { "LANGFUSE_DEBUG", "false", nameof(LangfuseOptions.Debug), false },
        { "LANGFUSE_DEBUG", "0", nameof(LangfuseOptions.Debug), false },
        { "LANGFUSE_INGESTION_PROTOCOL", "legacy", nameof(LangfuseOptions.IngestionProtocol), IngestionProtocol.Legacy },
        { "LANGFUSE_INGESTION_PROTOCOL", "LEGACY", nameof(LangfuseOptions.IngestionProtocol), IngestionProtocol.Legacy },
        { "LANGFUSE_INGESTION_PROTOCOL", "Otlp", nameof(LangfuseOptions.IngestionProtocol), IngestionProtocol.Otlp },
        { "LANGFUSE_MAX_QUEUE_SIZE", "50", nameof(LangfuseOptions.MaxQueueSize), 50 },
        { "LANGFUSE_MAX_QUEUE_BYTES", "5000000000", nameof(LangfuseOptions.MaxQueueBytes), 5_000_000_000L },
        { "LANGFUSE_MAX_EVENT_BYTES", "2048", nameof(LangfuseOptions.MaxEventBytes), 2048 },
        { "LANGFUSE_MAX_REQUEST_BYTES", "4096", nameof(LangfuseOptions.MaxRequestBytes), 4096 },
        { "LANGFUSE_MAX_RETRIES", "0", nameof(LangfuseOptions.MaxRetries), 0 },
        { "LANGFUSE_MAX_RETRIES", "3", nameof(LangfuseOptions.MaxRetries), 3 },
        { "LANGFUSE_RETRY_BASE_DELAY_MS", "100", nameof(LangfuseOptions.RetryBaseDelay), TimeSpan.FromMilliseconds(100) },
        { "LANGFUSE_RETRY_BASE_DELAY_MS", "0.5", nameof(LangfuseOptions.RetryBaseDelay), TimeSpan.FromMicroseconds(500) },
        { "LANGFUSE_MAX_RETRY_DELAY", "60", nameof(LangfuseOptions.MaxRetryDelay), TimeSpan.FromSeconds(60) },
        { "LANGFUSE_CIRCUIT_BREAKER_FAILURES", "3", nameof(LangfuseOptions.CircuitBreakerFailures), 3 },
        { "LANGFUSE_CIRCUIT_BREAK_DURATION", "1.5", nameof(LangfuseOptions.CircuitBreakDuration), TimeSpan.FromMilliseconds(1500) },
        { "LANGFUSE_SHUTDOWN_TIMEOUT", "0", nameof(LangfuseOptions.ShutdownTimeout), TimeSpan.Zero },
        { "LANGFUSE_SHUTDOWN_TIMEOUT", "12", nameof(LangfuseOptions.ShutdownTimeout), TimeSpan.FromSeconds(12) },
        { "OTEL_SERVICE_NAME", "checkout", nameof(LangfuseOptions.ServiceName), "checkout" },
        { "LANGFUSE_BUFFER_DIR", "/var/lib/langfuse", nameof(LangfuseOptions.BufferDirectory), "/var/lib/langfuse" },
    };

    [Theory]
    [MemberData(nameof(ValidVariables))]
    public void Apply_ValidVariable_SetsOptionWithoutProblems(string variable, string value, string property, object? expected)
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of((variable, value)), out var problems);

        problems.ShouldBeEmpty();
        Get(options, property).ShouldBe(expected);
    }

    public static TheoryData<string, string, string> InvalidVariables => new()
    {
        { "LANGFUSE_BASE_URL", "not a url", nameof(LangfuseOptions.BaseUrl) },
        { "LANGFUSE_BASE_URL", "ftp://files.example", nameof(LangfuseOptions.BaseUrl) },
        { "LANGFUSE_BASE_URL", "/api/public", nameof(LangfuseOptions.BaseUrl) },
        { "LANGFUSE_HOST", "cloud.langfuse.com", nameof(LangfuseOptions.BaseUrl) },
        { "LANGFUSE_TIMEOUT", "abc", nameof(LangfuseOptions.Timeout) },
        { "LANGFUSE_TIMEOUT", "0", nameof(LangfuseOptions.Timeout) },
        { "LANGFUSE_TIMEOUT", "-1", nameof(LangfuseOptions.Timeout) },
        { "LANGFUSE_TIMEOUT", "5s", nameof(LangfuseOptions.Timeout) },
        { "LANGFUSE_TIMEOUT", "1,5", nameof(LangfuseOptions.Timeout) },
        { "LANGFUSE_TIMEOUT", "NaN", nameof(LangfuseOptions.Timeout) },
        { "LANGFUSE_TIMEOUT", "Infinity", nameof(LangfuseOptions.Timeout) },
        { "LANGFUSE_TIMEOUT", "1e300", nameof(LangfuseOptions.Timeout) },
        { "LANGFUSE_FLUSH_AT", "0", nameof(LangfuseOptions.FlushAt) },
        { "LANGFUSE_FLUSH_AT", "1.5", nameof(LangfuseOptions.FlushAt) },
        { "LANGFUSE_FLUSH_AT", "ten", nameof(LangfuseOptions.FlushAt) },
        { "LANGFUSE_FLUSH_AT", "99999999999", nameof(LangfuseOptions.FlushAt) },
        { "LANGFUSE_FLUSH_INTERVAL", "0", nameof(LangfuseOptions.FlushInterval) },
        { "LANGFUSE_FLUSH_INTERVAL", "soon", nameof(LangfuseOptions.FlushInterval) },
        { "LANGFUSE_SAMPLE_RATE", "1.5", nameof(LangfuseOptions.SampleRate) },
        { "LANGFUSE_SAMPLE_RATE", "-0.1", nameof(LangfuseOptions.SampleRate) },
        { "LANGFUSE_SAMPLE_RATE", "0,5", nameof(LangfuseOptions.SampleRate) },
        { "LANGFUSE_SAMPLE_RATE", "NaN", nameof(LangfuseOptions.SampleRate) },
        { "LANGFUSE_TRACING_ENVIRONMENT", "   ", nameof(LangfuseOptions.Environment) },
        { "LANGFUSE_DEBUG", "maybe", nameof(LangfuseOptions.Debug) },
        { "LANGFUSE_INGESTION_PROTOCOL", "grpc", nameof(LangfuseOptions.IngestionProtocol) },
        { "LANGFUSE_MAX_QUEUE_SIZE", "0", nameof(LangfuseOptions.MaxQueueSize) },
        { "LANGFUSE_MAX_QUEUE_BYTES", "-1", nameof(LangfuseOptions.MaxQueueBytes) },
        { "LANGFUSE_MAX_EVENT_BYTES", "big", nameof(LangfuseOptions.MaxEventBytes) },
        { "LANGFUSE_MAX_REQUEST_BYTES", "0", nameof(LangfuseOptions.MaxRequestBytes) },
        { "LANGFUSE_MAX_RETRIES", "-1", nameof(LangfuseOptions.MaxRetries) },
        { "LANGFUSE_RETRY_BASE_DELAY_MS", "0", nameof(LangfuseOptions.RetryBaseDelay) },
        { "LANGFUSE_RETRY_BASE_DELAY_MS", "fast", nameof(LangfuseOptions.RetryBaseDelay) },
        { "LANGFUSE_MAX_RETRY_DELAY", "-5", nameof(LangfuseOptions.MaxRetryDelay) },
        { "LANGFUSE_CIRCUIT_BREAKER_FAILURES", "0", nameof(LangfuseOptions.CircuitBreakerFailures) },
        { "LANGFUSE_CIRCUIT_BREAK_DURATION", "0", nameof(LangfuseOptions.CircuitBreakDuration) },
        { "LANGFUSE_SHUTDOWN_TIMEOUT", "-1", nameof(LangfuseOptions.ShutdownTimeout) },
        { "LANGFUSE_SHUTDOWN_TIMEOUT", "00:00:05", nameof(LangfuseOptions.ShutdownTimeout) },
    };

    [Theory]
    [MemberData(nameof(InvalidVariables))]
    public void Apply_InvalidVariable_KeepsDefaultAndReportsVariableValueAndWhatIsUsedInstead(string variable, string value, string property)
    {
        // Read and checked as at start-up: each bad value costs only itself, except a base URL, which nothing may replace.
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of((variable, value)));

        var report = LangfuseOptionsValidator.Normalize(options);

        var defaults = new LangfuseOptions();
        string line;
        if (property == nameof(LangfuseOptions.BaseUrl))
        {
            report.Replaced.ShouldBeEmpty();
            line = report.CannotWork.ShouldNotBeNull();
        }
        else
        {
            report.CannotWork.ShouldBeNull("one bad value costs only itself");
            line = report.Replaced.ShouldHaveSingleItem();
            line.ShouldEndWith($"; using {SettingText.Value(property, Get(defaults, property))} instead.");
        }

        line.ShouldStartWith(variable + "=");
        line.ShouldContain($"\"{value}\"");
        line.ShouldNotContain("\n");
        Get(options, property).ShouldBe(Get(defaults, property));
    }

    [Fact]
    public void Apply_NothingSet_LeavesEveryDefaultWithoutProblems()
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of(), out var problems);

        problems.ShouldBeEmpty();
        foreach (var setting in LangfuseSettings.All)
        {
            Get(options, setting.Key).ShouldBe(Get(new LangfuseOptions(), setting.Key), setting.Key);
        }
    }

    [Fact]
    public void Apply_EmptyVariables_AreTreatedAsUnset()
    {
        var options = new LangfuseOptions();
        var everyVariableEmpty = LangfuseSettings.All.Select(s => (s.Variable, (string?)string.Empty)).ToArray();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of(everyVariableEmpty), out var problems);

        problems.ShouldBeEmpty();
        options.Timeout.ShouldBe(TimeSpan.FromSeconds(5));
        options.PublicKey.ShouldBeNull();
    }

    [Fact]
    public void Apply_SeveralBadValues_ReportsEachOnceAndAppliesTheGoodOnes()
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of(
            ("LANGFUSE_TIMEOUT", "x"), ("LANGFUSE_FLUSH_AT", "y"), ("LANGFUSE_SAMPLE_RATE", "z"), ("LANGFUSE_MAX_RETRIES", "7")), out var problems);

        problems.Count.ShouldBe(3);
        problems[0].ShouldStartWith("LANGFUSE_TIMEOUT=");
        problems[1].ShouldStartWith("LANGFUSE_FLUSH_AT=");
        problems[2].ShouldStartWith("LANGFUSE_SAMPLE_RATE=");
        options.MaxRetries.ShouldBe(7);
    }

    [Fact]
    public void FromEnvironment_KeepsReadingProblemsOnTheOptions()
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of(("LANGFUSE_FLUSH_AT", "many")));

        var problem = options.ReadingProblems.ShouldHaveSingleItem();
        problem.Subject.ShouldBe("LANGFUSE_FLUSH_AT=\"many\" is not a whole number");
        problem.Fatal.ShouldBeFalse();
    }

    // --- Base URL aliases ---

    [Theory]
    [InlineData("https://a.example", "https://b.example", "https://c.example", "https://a.example/")]
    [InlineData(null, "https://b.example", "https://c.example", "https://b.example/")]
    [InlineData("", "https://b.example", "https://c.example", "https://b.example/")]
    [InlineData(null, null, "https://c.example", "https://c.example/")]
    [InlineData(null, "", "https://c.example", "https://c.example/")]
    [InlineData(null, null, null, LangfuseOptions.DefaultBaseUrl + "/")]
    public void Apply_BaseUrlAliases_FirstNonEmptyWins(string? baseUrl, string? host, string? baseUrlJs, string expected)
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of(
            ("LANGFUSE_BASE_URL", baseUrl), ("LANGFUSE_HOST", host), ("LANGFUSE_BASEURL", baseUrlJs)), out var problems);

        problems.ShouldBeEmpty();
        options.BaseUrl.ShouldBe(new Uri(expected));
    }

    [Fact]
    public void Apply_InvalidBaseUrl_DoesNotFallBackToAnAlias()
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of(
            ("LANGFUSE_BASE_URL", "langfuse.internal"), ("LANGFUSE_HOST", "https://b.example")), out var problems);

        problems.ShouldHaveSingleItem().ShouldStartWith("LANGFUSE_BASE_URL=");
        options.BaseUrl.ShouldBe(new Uri(LangfuseOptions.DefaultBaseUrl));
    }

    [Fact]
    public void Apply_InvalidAlias_NamesTheAliasThatWasRead()
    {
        LangfuseSettingsReader.Apply(new LangfuseOptions(), EnvironmentStub.Of(("LANGFUSE_HOST", "nope")), out var problems);

        problems.ShouldHaveSingleItem().ShouldStartWith("LANGFUSE_HOST=\"nope\"");
    }

    // --- Release and its CI fallback ---

    public static TheoryData<string> ReleaseFallbackVariables => [.. LangfuseSettings.ReleaseFallbackVariables];

    [Theory]
    [MemberData(nameof(ReleaseFallbackVariables))]
    public void Apply_ReleaseUnset_FallsBackToCiCommitVariable(string variable)
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of((variable, "abc123")), out var problems);

        problems.ShouldBeEmpty();
        options.Release.ShouldBe("abc123");
    }

    [Fact]
    public void ReleaseFallback_ReadsWhatTheOfficialPythonSdkReads()
    {
        LangfuseSettings.ReleaseFallbackVariables.ShouldBe(
        [
            "RENDER_GIT_COMMIT", "CI_COMMIT_SHA", "CIRCLE_SHA1", "SOURCE_VERSION", "TRAVIS_COMMIT", "GIT_COMMIT",
            "GITHUB_SHA", "BITBUCKET_COMMIT", "BUILD_SOURCEVERSION", "DRONE_COMMIT_SHA", "HEROKU_SLUG_COMMIT", "VERCEL_GIT_COMMIT_SHA",
        ]);
    }

    [Theory]
    [InlineData("v2", "v2")]
    [InlineData("", "from-github")]
    [InlineData(null, "from-github")]
    public void Apply_LangfuseRelease_WinsOverCiVariables(string? release, string expected)
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of(("LANGFUSE_RELEASE", release), ("GITHUB_SHA", "from-github")), out _);

        options.Release.ShouldBe(expected);
    }

    [Fact]
    public void Apply_SeveralCiVariables_TakesThemInThePythonSdkOrder()
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of(
            ("GITHUB_SHA", "github"), ("CI_COMMIT_SHA", "gitlab"), ("VERCEL_GIT_COMMIT_SHA", "vercel"), ("CIRCLE_SHA1", "")), out _);

        options.Release.ShouldBe("gitlab");
    }

    [Fact]
    public void Apply_NoReleaseAnywhere_LeavesReleaseNull()
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of(("GITHUB_REF", "refs/heads/main")), out _);

        options.Release.ShouldBeNull();
    }

    // --- Secrets never appear in problems ---

    [Theory]
    [InlineData("LANGFUSE_SECRET_KEY", "   ")]
    [InlineData("LANGFUSE_PUBLIC_KEY", "\t")]
    public void Apply_BlankKey_ReportsEmptyAfterTrimming(string variable, string value)
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of((variable, value)), out var problems);

        problems.ShouldHaveSingleItem().ShouldBe($"{variable} is set but empty after trimming (the value is not shown).");
        options.SecretKey.ShouldBeNull();
        options.PublicKey.ShouldBeNull();
    }

    [Theory]
    [InlineData("LANGFUSE_SECRET_KEY", Secret + " extra")]
    [InlineData("LANGFUSE_SECRET_KEY", Secret + "\u0001")]
    [InlineData("LANGFUSE_SECRET_KEY", "sk-lf-0f1e2d3c-SECRET\nVALUE")]
    [InlineData("LANGFUSE_PUBLIC_KEY", Public + " " + Secret)]
    public void Apply_MalformedKey_NeverShowsTheKey(string variable, string value)
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of((variable, value)), out var problems);

        var problem = problems.ShouldHaveSingleItem();
        problem.ShouldStartWith(variable + " ");
        problem.ShouldNotContain("0f1e2d3c");
        problem.ShouldNotContain("-VALUE");
        problem.ShouldNotContain("extra");
        problem.ShouldNotContain("9a8b7c6d");
        options.SecretKey.ShouldBeNull();
        options.PublicKey.ShouldBeNull();
    }

    [Fact]
    public void Apply_KeyPastedIntoAnotherVariable_IsNotShown()
    {
        LangfuseSettingsReader.Apply(new LangfuseOptions(), EnvironmentStub.Of(("LANGFUSE_TIMEOUT", Secret)), out var problems);

        var problem = problems.ShouldHaveSingleItem();
        problem.ShouldStartWith("LANGFUSE_TIMEOUT=");
        problem.ShouldNotContain(Secret);
        problem.ShouldNotContain("0f1e2d3c");
    }

    [Theory]
    [InlineData("https://alice:hunter2@langfuse.example/", "https://langfuse.example/")]
    [InlineData("https://alice:hunter2@langfuse.example:8443/lf", "https://langfuse.example:8443/lf/")]
    [InlineData("http://hunter2@localhost:3000", "http://localhost:3000/")]
    public void Apply_CredentialsInBaseUrl_AreStrippedAndReportedWithoutThem(string value, string expected)
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of(("LANGFUSE_BASE_URL", value)), out var problems);

        var problem = problems.ShouldHaveSingleItem();
        problem.ShouldStartWith("LANGFUSE_BASE_URL=");
        problem.ShouldContain("credentials");
        problem.ShouldNotContain("hunter2");
        problem.ShouldNotContain("alice");
        options.BaseUrl.ShouldBe(new Uri(expected));
        options.BaseUrl.UserInfo.ShouldBeEmpty();
    }

    [Fact]
    public void Apply_KeysInBaseUrl_NeverShown()
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, EnvironmentStub.Of(("LANGFUSE_HOST", $"https://{Public}:{Secret}@langfuse.example")), out var problems);

        problems.ShouldHaveSingleItem().ShouldStartWith("LANGFUSE_HOST=");
        problems.ShouldAllBe(p => !p.Contains(Secret) && !p.Contains(Public) && !p.Contains("0f1e2d3c"));
        options.BaseUrl.ToString().ShouldNotContain("0f1e2d3c");
    }

    [Fact]
    public void Apply_UnparseableBaseUrlWithCredentials_MasksThem()
    {
        LangfuseSettingsReader.Apply(new LangfuseOptions(), EnvironmentStub.Of(("LANGFUSE_BASE_URL", "https://alice:hunter2@[not-a-host")), out var problems);

        var problem = problems.ShouldHaveSingleItem();
        problem.ShouldContain("https://***@");
        problem.ShouldNotContain("hunter2");
    }

    [Fact]
    public void Apply_EverythingMalformed_NoProblemContainsTheSecret()
    {
        var variables = LangfuseSettings.All.Select(s => (s.Variable, (string?)$"{Secret} bad")).ToArray();

        LangfuseSettingsReader.Apply(new LangfuseOptions(), EnvironmentStub.Of(variables), out var problems);

        problems.ShouldNotBeEmpty();
        problems.ShouldAllBe(p => !p.Contains(Secret) && !p.Contains("0f1e2d3c"));
    }

    [Fact]
    public void Apply_LongOrMultiLineValue_IsShownOnOneBoundedLine()
    {
        LangfuseSettingsReader.Apply(new LangfuseOptions(), EnvironmentStub.Of(("LANGFUSE_FLUSH_AT", "1\n2" + new string('9', 500))), out var problems);

        var problem = problems.ShouldHaveSingleItem();
        problem.ShouldNotContain("\n");
        problem.Length.ShouldBeLessThan(250);
    }

    // --- IConfiguration section ---

    public static TheoryData<string, string, TimeSpan> ConfigurationDurations => new()
    {
        { nameof(LangfuseOptions.Timeout), "00:00:07", TimeSpan.FromSeconds(7) },
        { nameof(LangfuseOptions.Timeout), "7", TimeSpan.FromSeconds(7) },
        { nameof(LangfuseOptions.Timeout), "0.5", TimeSpan.FromMilliseconds(500) },
        { nameof(LangfuseOptions.FlushInterval), "00:01:00", TimeSpan.FromMinutes(1) },
        { nameof(LangfuseOptions.FlushInterval), "60", TimeSpan.FromMinutes(1) },
        { nameof(LangfuseOptions.RetryBaseDelay), "00:00:00.100", TimeSpan.FromMilliseconds(100) },
        { nameof(LangfuseOptions.RetryBaseDelay), "0.1", TimeSpan.FromMilliseconds(100) },
        { nameof(LangfuseOptions.MaxRetryDelay), "00:02:00", TimeSpan.FromMinutes(2) },
        { nameof(LangfuseOptions.MaxRetryDelay), "120", TimeSpan.FromMinutes(2) },
        { nameof(LangfuseOptions.CircuitBreakDuration), "1.00:00:00", TimeSpan.FromDays(1) },
        { nameof(LangfuseOptions.CircuitBreakDuration), "1.5", TimeSpan.FromMilliseconds(1500) },
        { nameof(LangfuseOptions.ShutdownTimeout), "00:00:00", TimeSpan.Zero },
        { nameof(LangfuseOptions.ShutdownTimeout), "0", TimeSpan.Zero },
    };

    [Theory]
    [MemberData(nameof(ConfigurationDurations))]
    public void ApplyConfiguration_Duration_AcceptsTimeSpanOrSeconds(string key, string value, TimeSpan expected)
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, Section(($"Langfuse:{key}", value)), out var problems);

        problems.ShouldBeEmpty();
        Get(options, key).ShouldBe(expected);
    }

    [Fact]
    public void ApplyConfiguration_EveryKey_SetsItsOption()
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, Section(
            ("Langfuse:PublicKey", "pk-lf-c"),
            ("Langfuse:SecretKey", "sk-lf-c"),
            ("Langfuse:BaseUrl", "https://self.example"),
            ("Langfuse:Timeout", "3"),
            ("Langfuse:FlushAt", "20"),
            ("Langfuse:FlushInterval", "00:00:02"),
            ("Langfuse:SampleRate", "0.5"),
            ("Langfuse:TracingEnabled", "False"),
            ("Langfuse:Environment", "staging"),
            ("Langfuse:Release", "r7"),
            ("Langfuse:Debug", "True"),
            ("Langfuse:IngestionProtocol", "Legacy"),
            ("Langfuse:MaxQueueSize", "11"),
            ("Langfuse:MaxQueueBytes", "2048"),
            ("Langfuse:MaxEventBytes", "1500"),
            ("Langfuse:MaxRequestBytes", "3000"),
            ("Langfuse:MaxRetries", "2"),
            ("Langfuse:RetryBaseDelay", "00:00:00.050"),
            ("Langfuse:MaxRetryDelay", "9"),
            ("Langfuse:CircuitBreakerFailures", "4"),
            ("Langfuse:CircuitBreakDuration", "00:00:10"),
            ("Langfuse:ShutdownTimeout", "1"),
            ("Langfuse:ServiceName", "svc"),
            ("Langfuse:BufferDirectory", "/tmp/lf")), out var problems);

        problems.ShouldBeEmpty();
        options.PublicKey.ShouldBe("pk-lf-c");
        options.SecretKey.ShouldBe("sk-lf-c");
        options.BaseUrl.ShouldBe(new Uri("https://self.example/"));
        options.Timeout.ShouldBe(TimeSpan.FromSeconds(3));
        options.FlushAt.ShouldBe(20);
        options.FlushInterval.ShouldBe(TimeSpan.FromSeconds(2));
        options.SampleRate.ShouldBe(0.5);
        options.TracingEnabled.ShouldBeFalse();
        options.Environment.ShouldBe("staging");
        options.Release.ShouldBe("r7");
        options.Debug.ShouldBeTrue();
        options.IngestionProtocol.ShouldBe(IngestionProtocol.Legacy);
        options.MaxQueueSize.ShouldBe(11);
        options.MaxQueueBytes.ShouldBe(2048);
        options.MaxEventBytes.ShouldBe(1500);
        options.MaxRequestBytes.ShouldBe(3000);
        options.MaxRetries.ShouldBe(2);
        options.RetryBaseDelay.ShouldBe(TimeSpan.FromMilliseconds(50));
        options.MaxRetryDelay.ShouldBe(TimeSpan.FromSeconds(9));
        options.CircuitBreakerFailures.ShouldBe(4);
        options.CircuitBreakDuration.ShouldBe(TimeSpan.FromSeconds(10));
        options.ShutdownTimeout.ShouldBe(TimeSpan.FromSeconds(1));
        options.ServiceName.ShouldBe("svc");
        options.BufferDirectory.ShouldBe("/tmp/lf");
    }

    [Fact]
    public void ApplyConfiguration_KeysIgnoreCase()
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, Section(("langfuse:flushat", "7"), ("LANGFUSE:TIMEOUT", "2")), out var problems);

        problems.ShouldBeEmpty();
        options.FlushAt.ShouldBe(7);
        options.Timeout.ShouldBe(TimeSpan.FromSeconds(2));
    }

    [Theory]
    [InlineData("Timeout", "soon")]
    [InlineData("Timeout", "-00:00:05")]
    [InlineData("Timeout", "00:00:00")]
    [InlineData("FlushAt", "0")]
    [InlineData("SampleRate", "2")]
    [InlineData("IngestionProtocol", "http")]
    [InlineData("BaseUrl", "langfuse")]
    public void ApplyConfiguration_InvalidValue_NamesTheKeyPathAndKeepsDefault(string key, string value)
    {
        var options = new LangfuseOptions();

        LangfuseSettingsReader.Apply(options, Section(($"Langfuse:{key}", value)), out _);
        var report = LangfuseOptionsValidator.Normalize(options);

        var line = key == nameof(LangfuseOptions.BaseUrl) ? report.CannotWork.ShouldNotBeNull() : report.Replaced.ShouldHaveSingleItem();
        line.ShouldStartWith($"Langfuse:{key}=\"{value}\" ");
        Get(options, key).ShouldBe(Get(new LangfuseOptions(), key));
    }

    [Fact]
    public void ApplyConfiguration_MalformedSecret_IsNotShown()
    {
        LangfuseSettingsReader.Apply(new LangfuseOptions(), Section(
            ("Langfuse:SecretKey", Secret + " x"), ("Langfuse:BaseUrl", $"https://u:{Secret}@h.example")), out var problems);

        problems.Count.ShouldBe(2);
        problems.ShouldAllBe(p => !p.Contains(Secret) && !p.Contains("0f1e2d3c"));
        problems[0].ShouldStartWith("Langfuse:SecretKey ");
    }

    [Fact]
    public void ApplyConfiguration_OnTopOfEnvironment_OverridesOnlyWhatIsSet()
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of(("LANGFUSE_FLUSH_AT", "9"), ("LANGFUSE_TIMEOUT", "8")));

        LangfuseSettingsReader.Apply(options, Section(("Langfuse:Timeout", "00:00:03"), ("Langfuse:FlushAt", "")), out var problems);

        problems.ShouldBeEmpty();
        options.FlushAt.ShouldBe(9);
        options.Timeout.ShouldBe(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void ApplyConfiguration_RootWithoutPath_NamesBareKey()
    {
        var root = new ConfigurationBuilder().AddInMemoryCollection([new("FlushAt", "x")]).Build();

        LangfuseSettingsReader.Apply(new LangfuseOptions(), root, out var problems);

        problems.ShouldHaveSingleItem().ShouldStartWith("FlushAt=\"x\"");
    }

    private static IConfigurationSection Section(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build()
            .GetSection("Langfuse");

    private static object? Get(LangfuseOptions options, string property) =>
        typeof(LangfuseOptions).GetProperty(property)!.GetValue(options);
}
