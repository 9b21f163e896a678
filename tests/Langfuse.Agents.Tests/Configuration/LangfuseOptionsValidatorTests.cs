using Langfuse.Agents.Internal.Configuration;
using Shouldly;
using Xunit;

// Test names follow the house style Method_Condition_Result (STYLE.md, item 13).
#pragma warning disable CA1707

namespace Langfuse.Agents.Tests.Configuration;

public sealed class LangfuseOptionsValidatorTests
{
    private const string Secret = "sk-lf-VALIDATOR-SECRET";

    // Each case breaks exactly one option set in code. Expected: how the line names it, what is used instead (null:
    // tracing cannot work), and the value the options hold afterwards.
    private static readonly Dictionary<string, (Action<LangfuseOptions> Break, string Subject, string? UsedInstead, Func<LangfuseOptions, object?> Read, object? After)> InvalidCases = new()
    {
        ["relative base url"] = (o => o.BaseUrl = new Uri("/langfuse", UriKind.Relative), "BaseUrl=(relative URL) (set in code)", null, o => o.BaseUrl.OriginalString, "/langfuse"),
        ["ftp base url"] = (o => o.BaseUrl = new Uri("ftp://files.example"), "BaseUrl=ftp://files.example/ (set in code) must be an absolute http or https URL", null, o => o.BaseUrl.Scheme, "ftp"),
        ["null base url"] = (o => o.BaseUrl = null!, "BaseUrl (set in code) is null", "https://cloud.langfuse.com/", o => o.BaseUrl?.ToString(), "https://cloud.langfuse.com/"),
        ["timeout zero"] = (o => o.Timeout = TimeSpan.Zero, "Timeout=0 s (set in code)", "5 s", o => o.Timeout, TimeSpan.FromSeconds(5)),
        ["timeout negative"] = (o => o.Timeout = TimeSpan.FromSeconds(-1), "Timeout=-1 s (set in code)", "5 s", o => o.Timeout, TimeSpan.FromSeconds(5)),
        ["timeout below polly minimum"] = (o => o.Timeout = TimeSpan.FromMilliseconds(9), "Timeout=9 ms (set in code)", "5 s", o => o.Timeout, TimeSpan.FromSeconds(5)),
        ["timeout over ten minutes"] = (o => o.Timeout = TimeSpan.FromMinutes(11), "Timeout=660 s (set in code)", "5 s", o => o.Timeout, TimeSpan.FromSeconds(5)),
        ["flush at zero"] = (o => o.FlushAt = 0, "FlushAt=0 (set in code)", "512", o => o.FlushAt, 512),
        ["flush at too large"] = (o => o.FlushAt = 100_001, "FlushAt=100001 (set in code)", "512", o => o.FlushAt, 512),
        ["flush interval zero"] = (o => o.FlushInterval = TimeSpan.Zero, "FlushInterval=0 s (set in code)", "5 s", o => o.FlushInterval, TimeSpan.FromSeconds(5)),
        ["flush interval over a day"] = (o => o.FlushInterval = TimeSpan.FromDays(2), "FlushInterval=172800 s (set in code)", "5 s", o => o.FlushInterval, TimeSpan.FromSeconds(5)),
        ["sample rate negative"] = (o => o.SampleRate = -0.01, "SampleRate=-0.01 (set in code)", "1", o => o.SampleRate, 1.0),
        ["sample rate above one"] = (o => o.SampleRate = 2, "SampleRate=2 (set in code)", "1", o => o.SampleRate, 1.0),
        ["sample rate nan"] = (o => o.SampleRate = double.NaN, "SampleRate=NaN (set in code)", "1", o => o.SampleRate, 1.0),
        ["queue size zero"] = (o => o.MaxQueueSize = 0, "MaxQueueSize=0 (set in code)", "10000", o => o.MaxQueueSize, 10_000),
        ["queue bytes small"] = (o => o.MaxQueueBytes = 1023, "MaxQueueBytes=1023 (set in code)", "67108864", o => o.MaxQueueBytes, 64L * 1024 * 1024),
        ["event bytes small"] = (o => o.MaxEventBytes = 1023, "MaxEventBytes=1023 (set in code)", "1000000", o => o.MaxEventBytes, 1_000_000),
        ["request bytes small"] = (o => { o.MaxRequestBytes = 1023; o.MaxEventBytes = 1024; }, "MaxRequestBytes=1023 (set in code)", "2500000", o => o.MaxRequestBytes, 2_500_000),
        ["event larger than request"] = (o => o.MaxRequestBytes = 500_000, "MaxEventBytes=1000000 (set in code)", "500000", o => o.MaxEventBytes, 500_000),
        ["retries negative"] = (o => o.MaxRetries = -1, "MaxRetries=-1 (set in code)", "5", o => o.MaxRetries, 5),
        ["retries too many"] = (o => o.MaxRetries = 101, "MaxRetries=101 (set in code)", "5", o => o.MaxRetries, 5),
        ["base delay zero"] = (o => o.RetryBaseDelay = TimeSpan.Zero, "RetryBaseDelay=0 s (set in code)", "250 ms", o => o.RetryBaseDelay, TimeSpan.FromMilliseconds(250)),
        ["base delay above max delay"] = (o => o.RetryBaseDelay = TimeSpan.FromSeconds(31), "RetryBaseDelay=31 s (set in code)", "30 s", o => o.RetryBaseDelay, TimeSpan.FromSeconds(30)),
        ["max retry delay small"] = (o => { o.MaxRetryDelay = TimeSpan.FromMilliseconds(99); o.RetryBaseDelay = TimeSpan.FromMilliseconds(10); }, "MaxRetryDelay=99 ms (set in code)", "30 s", o => o.MaxRetryDelay, TimeSpan.FromSeconds(30)),
        ["max retry delay over a day"] = (o => o.MaxRetryDelay = TimeSpan.FromDays(1.5), "MaxRetryDelay=129600 s (set in code)", "30 s", o => o.MaxRetryDelay, TimeSpan.FromSeconds(30)),
        ["breaker failures zero"] = (o => o.CircuitBreakerFailures = 0, "CircuitBreakerFailures=0 (set in code)", "5", o => o.CircuitBreakerFailures, 5),
        ["break duration below polly minimum"] = (o => o.CircuitBreakDuration = TimeSpan.FromMilliseconds(499), "CircuitBreakDuration=499 ms (set in code)", "30 s", o => o.CircuitBreakDuration, TimeSpan.FromSeconds(30)),
        ["break duration above polly maximum"] = (o => o.CircuitBreakDuration = TimeSpan.FromDays(2), "CircuitBreakDuration=172800 s (set in code)", "30 s", o => o.CircuitBreakDuration, TimeSpan.FromSeconds(30)),
        ["shutdown negative"] = (o => o.ShutdownTimeout = TimeSpan.FromSeconds(-1), "ShutdownTimeout=-1 s (set in code)", "5 s", o => o.ShutdownTimeout, TimeSpan.FromSeconds(5)),
        ["buffer bytes small"] = (o => o.BufferMaxBytes = 1000, "BufferMaxBytes=1000 (set in code)", "52428800", o => o.BufferMaxBytes, 50L * 1024 * 1024),
        ["retention zero"] = (o => o.BufferRetention = TimeSpan.Zero, "BufferRetention=0 s (set in code)", "172800 s", o => o.BufferRetention, TimeSpan.FromHours(48)),
        ["protocol undefined"] = (o => o.IngestionProtocol = (IngestionProtocol)7, "IngestionProtocol=7 (set in code)", "otlp", o => o.IngestionProtocol, IngestionProtocol.Otlp),
        ["full policy undefined"] = (o => o.BufferFullPolicy = (BufferFullPolicy)9, "BufferFullPolicy=9 (set in code)", "drop_oldest", o => o.BufferFullPolicy, BufferFullPolicy.DropOldest),
        ["environment uppercase"] = (o => o.Environment = "Production", "Environment=\"Production\" (set in code) must be lowercase", "\"production\"", o => o.Environment, "production"),
        ["environment space"] = (o => o.Environment = "prod env", "Environment=\"prod env\" (set in code)", "none (Langfuse shows \"default\")", o => o.Environment, null),
        ["environment dot"] = (o => o.Environment = "prod.eu", "Environment=\"prod.eu\" (set in code)", "none (Langfuse shows \"default\")", o => o.Environment, null),
        ["environment empty"] = (o => o.Environment = string.Empty, "Environment=\"\" (set in code)", "none (Langfuse shows \"default\")", o => o.Environment, null),
        ["environment reserved prefix"] = (o => o.Environment = "langfuse-prod", "Environment=\"langfuse-prod\" (set in code)", "none (Langfuse shows \"default\")", o => o.Environment, null),
        ["environment too long"] = (o => o.Environment = new string('a', 41), "Environment=", "none (Langfuse shows \"default\")", o => o.Environment, null),
        ["only public key"] = (o => o.PublicKey = "pk-lf-1", "LANGFUSE_PUBLIC_KEY is set but LANGFUSE_SECRET_KEY is not", null, o => o.PublicKey, "pk-lf-1"),
        ["only secret key"] = (o => o.SecretKey = Secret, "LANGFUSE_SECRET_KEY is set but LANGFUSE_PUBLIC_KEY is not", null, o => o.SecretKey, Secret),
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
    public void Normalize_Defaults_ChangesNothing()
    {
        var report = LangfuseOptionsValidator.Normalize(new LangfuseOptions());

        report.Replaced.ShouldBeEmpty();
        report.CannotWork.ShouldBeNull();
    }

    [Fact]
    public void Normalize_EmptyEnvironment_ChangesNothing_BecauseMissingKeysOnlyTurnTracingOff()
    {
        var report = LangfuseOptionsValidator.Normalize(LangfuseOptions.FromEnvironment(EnvironmentStub.Of()));

        report.Replaced.ShouldBeEmpty();
        report.CannotWork.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(ValidCaseNames))]
    public void Normalize_ValidSetting_IsKeptAsIs(string name)
    {
        var options = new LangfuseOptions();
        ValidCases[name](options);
        var expected = new LangfuseOptions();
        ValidCases[name](expected);

        var report = LangfuseOptionsValidator.Normalize(options);

        report.Replaced.ShouldBeEmpty();
        report.CannotWork.ShouldBeNull();
        options.ShouldBeEquivalentTo(expected);
        LangfuseOptionsValidator.Validate(options).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(InvalidCaseNames))]
    public void Normalize_InvalidSetting_IsReplacedAndReportedOnce_OrSaysTracingCannotWork(string name)
    {
        var (breakIt, subject, usedInstead, read, after) = InvalidCases[name];
        var options = new LangfuseOptions();
        breakIt(options);

        var report = LangfuseOptionsValidator.Normalize(options);

        if (usedInstead is null)
        {
            report.Replaced.ShouldBeEmpty();
            report.CannotWork.ShouldNotBeNull().ShouldStartWith(subject);
        }
        else
        {
            report.CannotWork.ShouldBeNull("one bad value costs only itself");
            var line = report.Replaced.ShouldHaveSingleItem();
            line.ShouldStartWith(subject);
            line.ShouldEndWith($"; using {usedInstead} instead.");
            line.ShouldNotContain("\n");
        }

        read(options).ShouldBe(after);
        (report.CannotWork ?? string.Join(" ", report.Replaced)).ShouldNotContain(Secret);
        // The relay's strict check agrees on the rest (it checks the keys itself).
        LangfuseOptionsValidator.Validate(options).Count.ShouldBe(usedInstead is null && !name.StartsWith("only ", StringComparison.Ordinal) ? 1 : 0);
    }

    [Theory]
    [MemberData(nameof(InvalidCaseNames))]
    public void Validate_InvalidSetting_ReportsOneLine_AndChangesNothing(string name)
    {
        var (breakIt, subject, _, read, _) = InvalidCases[name];
        var options = new LangfuseOptions();
        breakIt(options);
        var before = read(options);

        var problems = LangfuseOptionsValidator.Validate(options);

        if (!name.StartsWith("only ", StringComparison.Ordinal))
        {
            problems.ShouldHaveSingleItem().ShouldStartWith(subject);
        }

        read(options).ShouldBe(before, "the strict check leaves the options alone");
    }

    [Fact]
    public void Normalize_ThreeBadSettings_ReplacesAllThree_AndTracingStillWorks()
    {
        var options = new LangfuseOptions
        {
            PublicKey = "pk-lf-test",
            SecretKey = "sk-lf-test",
            FlushAt = 0,
            SampleRate = 2,
            CircuitBreakDuration = TimeSpan.FromMilliseconds(100),
        };

        var report = LangfuseOptionsValidator.Normalize(options);

        report.CannotWork.ShouldBeNull();
        report.Replaced.Count.ShouldBe(3);
        (options.FlushAt, options.SampleRate, options.CircuitBreakDuration).ShouldBe((512, 1.0, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Normalize_EnvironmentVariables_AreNamedWithTheirTextAndTheValueUsed()
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of(
            ("LANGFUSE_TRACING_ENVIRONMENT", "Production"),
            ("LANGFUSE_SAMPLE_RATE", "2"),
            ("LANGFUSE_FLUSH_AT", "lots")));

        var report = LangfuseOptionsValidator.Normalize(options);

        report.CannotWork.ShouldBeNull();
        report.Replaced.ShouldBe(
        [
            "LANGFUSE_FLUSH_AT=\"lots\" is not a whole number; using 512 instead.",
            "LANGFUSE_SAMPLE_RATE=\"2\" must be a number from 0 to 1; using 1 instead.",
            "LANGFUSE_TRACING_ENVIRONMENT=\"Production\" must be lowercase; using \"production\" instead.",
        ]);
        options.Environment.ShouldBe("production");
        options.SampleRate.ShouldBe(1);
    }

    [Fact]
    public void Normalize_AReadingProblem_SaysWhatIsReallyUsed_WhenCodeSetTheOptionAfterwards()
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of(("LANGFUSE_FLUSH_AT", "lots")));
        options.FlushAt = 7;

        LangfuseOptionsValidator.Normalize(options).Replaced.ShouldHaveSingleItem()
            .ShouldBe("LANGFUSE_FLUSH_AT=\"lots\" is not a whole number; using 7 instead.");
    }

    [Fact]
    public void Normalize_AValueFromTheEnvironmentChangedInCode_IsNamedAsSetInCode()
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of(("LANGFUSE_MAX_RETRIES", "3")));
        options.MaxRetries = 500;

        LangfuseOptionsValidator.Normalize(options).Replaced.ShouldHaveSingleItem().ShouldStartWith("MaxRetries=500 (set in code)");
    }

    [Fact]
    public void Normalize_UnusableBaseUrlFromTheEnvironment_TurnsTracingOff_InsteadOfSendingToLangfuseCloud()
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of(
            ("LANGFUSE_BASE_URL", "langfuse.internal:3000"),
            ("LANGFUSE_PUBLIC_KEY", "pk-lf-test"),
            ("LANGFUSE_SECRET_KEY", "sk-lf-test")));

        var report = LangfuseOptionsValidator.Normalize(options);

        report.CannotWork.ShouldBe("LANGFUSE_BASE_URL=\"langfuse.internal:3000\" is not an absolute http or https URL");
        report.Replaced.ShouldBeEmpty();
    }

    [Fact]
    public void Normalize_CredentialsInTheBaseUrl_AreRemoved_WithoutShowingThem_AndTracingGoesOn()
    {
        var options = new LangfuseOptions { BaseUrl = new Uri($"https://pk:{Secret}@langfuse.example/") };

        var report = LangfuseOptionsValidator.Normalize(options);

        report.CannotWork.ShouldBeNull();
        var line = report.Replaced.ShouldHaveSingleItem();
        line.ShouldStartWith("BaseUrl=https://langfuse.example/ (set in code) contains user credentials");
        line.ShouldEndWith("; using https://langfuse.example/ instead.");
        line.ShouldNotContain(Secret);
        options.BaseUrl.UserInfo.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("LANGFUSE_SECRET_KEY", "LANGFUSE_PUBLIC_KEY")]
    [InlineData("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY")]
    public void Normalize_AnUnusableKey_TurnsTracingOff_NamingItWithoutItsValue(string broken, string fine)
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of((broken, Secret + " with a space"), (fine, "pk-lf-test")));

        var report = LangfuseOptionsValidator.Normalize(options);

        report.CannotWork.ShouldBe($"{broken} contains whitespace or control characters (the value is not shown)");
        report.Replaced.ShouldBeEmpty();
        report.CannotWork!.ShouldNotContain(Secret);
    }

    [Fact]
    public void Normalize_AnUnusableKeyFromTheEnvironment_IsReported_WhenCodeSetAGoodOne()
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of(("LANGFUSE_SECRET_KEY", Secret + " x"), ("LANGFUSE_PUBLIC_KEY", "pk-lf-test")));
        options.SecretKey = "sk-lf-test";

        var report = LangfuseOptionsValidator.Normalize(options);

        report.CannotWork.ShouldBeNull();
        report.Replaced.ShouldHaveSingleItem().ShouldBe("LANGFUSE_SECRET_KEY contains whitespace or control characters (the value is not shown); the key set elsewhere is used.");
    }

    [Fact]
    public void Normalize_EverythingWrong_ReportsEveryOptionAndNeverTheSecret()
    {
        var options = LangfuseOptions.FromEnvironment(EnvironmentStub.Of(("LANGFUSE_SECRET_KEY", Secret + " broken"), ("LANGFUSE_TIMEOUT", Secret)));
        options.SecretKey = Secret;
        foreach (var (breakIt, _, _, _, _) in InvalidCases.Values)
        {
            breakIt(options);
        }

        var report = LangfuseOptionsValidator.Normalize(options);

        report.Replaced.Count.ShouldBeGreaterThan(15);
        report.Replaced.Append(report.CannotWork ?? string.Empty).ShouldAllBe(p => !p.Contains(Secret) && !p.Contains('\n'));
    }

    [Fact]
    public void Validate_DoesNotCheckKeyPrefixes()
    {
        var options = new LangfuseOptions { PublicKey = "anything", SecretKey = "else" };

        LangfuseOptionsValidator.Validate(options).ShouldBeEmpty();
    }
}
