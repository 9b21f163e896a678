using Langfuse.Agents.Internal.Configuration;
using Shouldly;
using Xunit;

// Test names follow the house style Method_Condition_Result (STYLE.md, item 13).
#pragma warning disable CA1707

namespace Langfuse.Agents.Tests.Configuration;

public sealed class LangfuseOptionsValidatorTests
{
    private const string Secret = "sk-lf-VALIDATOR-SECRET";

    // Each case breaks exactly one option; the expected text is the option and its variable.
    private static readonly Dictionary<string, (Action<LangfuseOptions> Break, string Expected)> InvalidCases = new()
    {
        ["relative base url"] = (o => o.BaseUrl = new Uri("/langfuse", UriKind.Relative), "BaseUrl (LANGFUSE_BASE_URL)"),
        ["ftp base url"] = (o => o.BaseUrl = new Uri("ftp://files.example"), "BaseUrl (LANGFUSE_BASE_URL)"),
        ["timeout zero"] = (o => o.Timeout = TimeSpan.Zero, "Timeout (LANGFUSE_TIMEOUT)"),
        ["timeout negative"] = (o => o.Timeout = TimeSpan.FromSeconds(-1), "Timeout (LANGFUSE_TIMEOUT)"),
        ["timeout below polly minimum"] = (o => o.Timeout = TimeSpan.FromMilliseconds(9), "Timeout (LANGFUSE_TIMEOUT)"),
        ["timeout over ten minutes"] = (o => o.Timeout = TimeSpan.FromMinutes(10).Add(TimeSpan.FromTicks(1)), "Timeout (LANGFUSE_TIMEOUT)"),
        ["flush at zero"] = (o => o.FlushAt = 0, "FlushAt (LANGFUSE_FLUSH_AT)"),
        ["flush at too large"] = (o => o.FlushAt = 100_001, "FlushAt (LANGFUSE_FLUSH_AT)"),
        ["flush interval zero"] = (o => o.FlushInterval = TimeSpan.Zero, "FlushInterval (LANGFUSE_FLUSH_INTERVAL)"),
        ["flush interval over a day"] = (o => o.FlushInterval = TimeSpan.FromDays(2), "FlushInterval (LANGFUSE_FLUSH_INTERVAL)"),
        ["sample rate negative"] = (o => o.SampleRate = -0.01, "SampleRate (LANGFUSE_SAMPLE_RATE)"),
        ["sample rate above one"] = (o => o.SampleRate = 1.01, "SampleRate (LANGFUSE_SAMPLE_RATE)"),
        ["sample rate nan"] = (o => o.SampleRate = double.NaN, "SampleRate (LANGFUSE_SAMPLE_RATE)"),
        ["queue size zero"] = (o => o.MaxQueueSize = 0, "MaxQueueSize (LANGFUSE_MAX_QUEUE_SIZE)"),
        ["queue bytes small"] = (o => o.MaxQueueBytes = 1023, "MaxQueueBytes (LANGFUSE_MAX_QUEUE_BYTES)"),
        ["event bytes small"] = (o => o.MaxEventBytes = 1023, "MaxEventBytes (LANGFUSE_MAX_EVENT_BYTES)"),
        ["request smaller than event"] = (o => o.MaxRequestBytes = o.MaxEventBytes - 1, "MaxRequestBytes (LANGFUSE_MAX_REQUEST_BYTES)"),
        ["retries negative"] = (o => o.MaxRetries = -1, "MaxRetries (LANGFUSE_MAX_RETRIES)"),
        ["retries too many"] = (o => o.MaxRetries = 101, "MaxRetries (LANGFUSE_MAX_RETRIES)"),
        ["base delay zero"] = (o => o.RetryBaseDelay = TimeSpan.Zero, "RetryBaseDelay (LANGFUSE_RETRY_BASE_DELAY_MS)"),
        ["base delay above max delay"] = (o => o.RetryBaseDelay = o.MaxRetryDelay + TimeSpan.FromTicks(1), "RetryBaseDelay (LANGFUSE_RETRY_BASE_DELAY_MS)"),
        ["max retry delay small"] = (o => { o.MaxRetryDelay = TimeSpan.FromMilliseconds(99); o.RetryBaseDelay = TimeSpan.FromMilliseconds(10); }, "MaxRetryDelay (LANGFUSE_MAX_RETRY_DELAY)"),
        ["max retry delay over a day"] = (o => o.MaxRetryDelay = TimeSpan.FromDays(1.5), "MaxRetryDelay (LANGFUSE_MAX_RETRY_DELAY)"),
        ["breaker failures zero"] = (o => o.CircuitBreakerFailures = 0, "CircuitBreakerFailures (LANGFUSE_CIRCUIT_BREAKER_FAILURES)"),
        ["break duration zero"] = (o => o.CircuitBreakDuration = TimeSpan.Zero, "CircuitBreakDuration (LANGFUSE_CIRCUIT_BREAK_DURATION)"),
        ["break duration below polly minimum"] = (o => o.CircuitBreakDuration = TimeSpan.FromMilliseconds(499), "CircuitBreakDuration (LANGFUSE_CIRCUIT_BREAK_DURATION)"),
        ["break duration above polly maximum"] = (o => o.CircuitBreakDuration = TimeSpan.FromDays(1) + TimeSpan.FromTicks(1), "CircuitBreakDuration (LANGFUSE_CIRCUIT_BREAK_DURATION)"),
        ["shutdown negative"] = (o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(-1), "ShutdownTimeout (LANGFUSE_SHUTDOWN_TIMEOUT)"),
        ["environment uppercase"] = (o => o.Environment = "Production", "Environment (LANGFUSE_TRACING_ENVIRONMENT)"),
        ["environment space"] = (o => o.Environment = "prod env", "Environment (LANGFUSE_TRACING_ENVIRONMENT)"),
        ["environment dot"] = (o => o.Environment = "prod.eu", "Environment (LANGFUSE_TRACING_ENVIRONMENT)"),
        ["environment empty"] = (o => o.Environment = string.Empty, "Environment (LANGFUSE_TRACING_ENVIRONMENT)"),
        ["environment reserved prefix"] = (o => o.Environment = "langfuse-prod", "Environment (LANGFUSE_TRACING_ENVIRONMENT)"),
        ["environment too long"] = (o => o.Environment = new string('a', 41), "Environment (LANGFUSE_TRACING_ENVIRONMENT)"),
        ["only public key"] = (o => o.PublicKey = "pk-lf-1", "PublicKey (LANGFUSE_PUBLIC_KEY) is set but SecretKey (LANGFUSE_SECRET_KEY) is not"),
        ["only secret key"] = (o => o.SecretKey = Secret, "SecretKey (LANGFUSE_SECRET_KEY) is set but PublicKey (LANGFUSE_PUBLIC_KEY) is not"),
    };

    private static readonly Dictionary<string, Action<LangfuseOptions>> ValidCases = new()
    {
        ["both keys"] = o => { o.PublicKey = "pk-lf-1"; o.SecretKey = "sk-lf-1"; },
        ["keys of a relay"] = o => { o.PublicKey = "relay-public"; o.SecretKey = "relay-secret"; },
        ["http base url with path"] = o => o.BaseUrl = new Uri("http://localhost:3000/langfuse/"),
        ["timeout ten minutes"] = o => o.Timeout = TimeSpan.FromMinutes(10),
        ["timeout ten milliseconds"] = o => o.Timeout = TimeSpan.FromMilliseconds(10),
        ["flush at one"] = o => o.FlushAt = 1,
        ["flush at 100000"] = o => o.FlushAt = 100_000,
        ["sample rate zero"] = o => o.SampleRate = 0,
        ["sample rate one"] = o => o.SampleRate = 1,
        ["queue bytes 1024"] = o => o.MaxQueueBytes = 1024,
        ["event and request equal"] = o => { o.MaxEventBytes = 1024; o.MaxRequestBytes = 1024; },
        ["no retries"] = o => o.MaxRetries = 0,
        ["100 retries"] = o => o.MaxRetries = 100,
        ["base delay equals max delay"] = o => { o.MaxRetryDelay = TimeSpan.FromMilliseconds(100); o.RetryBaseDelay = TimeSpan.FromMilliseconds(100); },
        ["breaker one failure"] = o => o.CircuitBreakerFailures = 1,
        ["break duration half second"] = o => o.CircuitBreakDuration = TimeSpan.FromMilliseconds(500),
        ["break duration one day"] = o => o.CircuitBreakDuration = TimeSpan.FromDays(1),
        ["shutdown zero"] = o => o.ShutdownTimeout = TimeSpan.Zero,
        ["environment production"] = o => o.Environment = "production",
        ["environment with dash and underscore"] = o => o.Environment = "eu-west_2",
        ["environment 40 chars"] = o => o.Environment = new string('z', 40),
        ["environment containing langfuse later"] = o => o.Environment = "my-langfuse",
        ["tracing disabled"] = o => o.TracingEnabled = false,
    };

    public static TheoryData<string> InvalidCaseNames => [.. InvalidCases.Keys];

    public static TheoryData<string> ValidCaseNames => [.. ValidCases.Keys];

    [Fact]
    public void Validate_Defaults_HasNoProblems()
    {
        LangfuseOptionsValidator.Validate(new LangfuseOptions()).ShouldBeEmpty();
    }

    [Fact]
    public void Validate_EmptyEnvironment_HasNoProblems_BecauseMissingKeysOnlyTurnTracingOff()
    {
        LangfuseOptionsValidator.Validate(LangfuseOptions.FromEnvironment(EnvironmentStub.Of())).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(ValidCaseNames))]
    public void Validate_ValidSetting_HasNoProblems(string name)
    {
        var options = new LangfuseOptions();
        ValidCases[name](options);

        LangfuseOptionsValidator.Validate(options).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(InvalidCaseNames))]
    public void Validate_InvalidSetting_ReportsOneLineNamingOptionAndVariable(string name)
    {
        var (breakIt, expected) = InvalidCases[name];
        var options = new LangfuseOptions();
        breakIt(options);

        var problem = LangfuseOptionsValidator.Validate(options).ShouldHaveSingleItem();

        problem.ShouldStartWith(expected);
        problem.ShouldNotContain("\n");
        problem.ShouldNotContain(Secret);
    }

    [Fact]
    public void Validate_ThreeBadSettings_ReportsAllThreeTogether()
    {
        var options = new LangfuseOptions
        {
            FlushAt = 0,
            SampleRate = 2,
            CircuitBreakDuration = TimeSpan.FromMilliseconds(100),
        };

        var problems = LangfuseOptionsValidator.Validate(options);

        problems.Count.ShouldBe(3);
        problems.ShouldContain(p => p.StartsWith("FlushAt (LANGFUSE_FLUSH_AT)", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("SampleRate (LANGFUSE_SAMPLE_RATE)", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("CircuitBreakDuration (LANGFUSE_CIRCUIT_BREAK_DURATION)", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ReadingProblems_AreReportedFirstWithTheOthers()
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of(("LANGFUSE_FLUSH_AT", "lots"), ("LANGFUSE_SAMPLE_RATE", "0.5")));
        options.MaxRetries = -3;

        var problems = LangfuseOptionsValidator.Validate(options);

        problems.Count.ShouldBe(2);
        problems[0].ShouldStartWith("LANGFUSE_FLUSH_AT=\"lots\"");
        problems[1].ShouldStartWith("MaxRetries (LANGFUSE_MAX_RETRIES)");
    }

    [Fact]
    public void Validate_MaxRetryDelayTooSmall_IsOneProblemNotTwo()
    {
        var options = new LangfuseOptions { MaxRetryDelay = TimeSpan.FromMilliseconds(50) };

        LangfuseOptionsValidator.Validate(options).ShouldHaveSingleItem().ShouldStartWith("MaxRetryDelay");
    }

    [Fact]
    public void Validate_MaxEventBytesTooSmall_IsOneProblemNotTwo()
    {
        var options = new LangfuseOptions { MaxEventBytes = 10, MaxRequestBytes = 5 };

        LangfuseOptionsValidator.Validate(options).ShouldHaveSingleItem().ShouldStartWith("MaxEventBytes");
    }

    [Fact]
    public void Validate_CredentialsInBaseUrlSetInCode_ReportedWithoutThem()
    {
        var options = new LangfuseOptions { BaseUrl = new Uri($"https://pk:{Secret}@langfuse.example/") };

        var problem = LangfuseOptionsValidator.Validate(options).ShouldHaveSingleItem();

        problem.ShouldStartWith("BaseUrl (LANGFUSE_BASE_URL) must not contain user credentials");
        problem.ShouldNotContain(Secret);
        problem.ShouldNotContain("77aa66bb");
    }

    [Theory]
    [InlineData(Secret, null)]
    [InlineData(null, Secret)]
    [InlineData("   ", Secret)]
    public void Validate_OnlyOneKey_NeverShowsTheKey(string? publicKey, string? secretKey)
    {
        var options = new LangfuseOptions { PublicKey = publicKey, SecretKey = secretKey };

        var problem = LangfuseOptionsValidator.Validate(options).ShouldHaveSingleItem();

        problem.ShouldContain("LANGFUSE_PUBLIC_KEY");
        problem.ShouldContain("LANGFUSE_SECRET_KEY");
        problem.ShouldNotContain("77aa66bb");
    }

    [Fact]
    public void Validate_EverythingWrong_ReportsEveryOptionAndNeverTheSecret()
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of(("LANGFUSE_SECRET_KEY", Secret + " broken"), ("LANGFUSE_TIMEOUT", Secret)));
        options.SecretKey = Secret;
        foreach (var (breakIt, _) in InvalidCases.Values)
        {
            breakIt(options);
        }

        var problems = LangfuseOptionsValidator.Validate(options);

        problems.Count.ShouldBeGreaterThan(15);
        problems.ShouldAllBe(p => !p.Contains("77aa66bb") && !p.Contains('\n'));
    }

    [Fact]
    public void Validate_DoesNotCheckKeyPrefixes()
    {
        var options = new LangfuseOptions { PublicKey = "anything", SecretKey = "else" };

        LangfuseOptionsValidator.Validate(options).ShouldBeEmpty();
    }
}
