using Langfuse.Agents.Relay.Internal;
using Microsoft.Extensions.Configuration;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>
/// Issue 10: the relay's options come from configuration (appsettings <c>Relay</c> section, environment, command line)
/// with the <c>LANGFUSE_*</c> names mapped onto it, and are validated at start with every problem reported at once.
/// </summary>
public sealed class RelayOptionsTests
{
    private static readonly Dictionary<string, string> Keys = new()
    {
        ["LANGFUSE_BASE_URL"] = "http://127.0.0.1:9",
        ["LANGFUSE_PUBLIC_KEY"] = "pk-lf-test",
        ["LANGFUSE_SECRET_KEY"] = "sk-lf-test",
    };

    [Fact]
    public void LangfuseVariables_AreMappedOntoTheRelaySection()
    {
        var environment = Env(new()
        {
            ["LANGFUSE_RELAY_PUBLIC_KEY"] = "pk-lf-client",
            ["LANGFUSE_RELAY_SECRET_KEY"] = "sk-lf-client",
            ["LANGFUSE_BUFFER_DIR"] = "/tmp/relay-options-test",
            ["LANGFUSE_BUFFER_MAX_BYTES"] = "2097152",
            ["LANGFUSE_RELAY_FSYNC"] = "false",
            ["LANGFUSE_RELAY_BODY_TIMEOUT"] = "7",
            ["LANGFUSE_RELAY_MAX_PENDING_REQUESTS"] = "12",
            ["LANGFUSE_MAX_RETRIES"] = "4",
            ["LANGFUSE_RETRY_BASE_DELAY_MS"] = "100", // the SDK's units: milliseconds
        });

        var options = RelayOptions.Read(Configuration(environment), environment, []);

        options.ReadingProblems.ShouldBeEmpty();
        options.Upstream.BaseUrl.ShouldBe(new Uri("http://127.0.0.1:9"));
        options.Upstream.PublicKey.ShouldBe("pk-lf-test");
        options.Upstream.MaxRetries.ShouldBe(4);
        options.Upstream.RetryBaseDelay.ShouldBe(TimeSpan.FromMilliseconds(100));
        options.ClientPublicKey.ShouldBe("pk-lf-client");
        options.ClientSecretKey.ShouldBe("sk-lf-client");
        options.BufferDirectory.ShouldBe("/tmp/relay-options-test");
        options.BufferMaxBytes.ShouldBe(2_097_152);
        options.Fsync.ShouldBeFalse();
        options.BodyTimeout.ShouldBe(TimeSpan.FromSeconds(7));
        options.MaxPendingRequests.ShouldBe(12);
    }

    [Fact]
    public void ClientKeys_DefaultToTheUpstreamKeys()
    {
        var environment = Env([]);

        var options = RelayOptions.Read(Configuration(environment), environment, []);

        options.ClientPublicKey.ShouldBe("pk-lf-test");
        options.ClientSecretKey.ShouldBe("sk-lf-test");
        new RelayOptionsValidator().Validate(null, options).Succeeded.ShouldBeTrue();
    }

    [Fact]
    public void Appsettings_Environment_CommandLine_RankInThatOrder()
    {
        var environment = Env(new() { ["LANGFUSE_RELAY_BODY_TIMEOUT"] = "20", ["LANGFUSE_MAX_RETRIES"] = "2" });
        var appsettings = new Dictionary<string, string?>
        {
            ["Relay:BodyTimeout"] = "10",
            ["Relay:DeadLetterMaxBytes"] = "100000",
            ["Relay:Upstream:MaxRetries"] = "1",
            ["Relay:Upstream:Timeout"] = "3",
        };

        var options = RelayOptions.Read(Configuration(environment, appsettings, ["--Relay:Upstream:MaxRetries=5"]), environment, ["--Relay:Upstream:MaxRetries=5"]);

        options.ReadingProblems.ShouldBeEmpty();
        options.DeadLetterMaxBytes.ShouldBe(100_000); // only in appsettings
        options.Upstream.Timeout.ShouldBe(TimeSpan.FromSeconds(3)); // only in appsettings
        options.BodyTimeout.ShouldBe(TimeSpan.FromSeconds(20)); // the environment wins over appsettings
        options.Upstream.MaxRetries.ShouldBe(5); // the command line wins over the environment
    }

    [Fact]
    public void EveryProblem_IsReportedAtOnce_NamedAsTheOperatorWroteIt_WithoutKeys()
    {
        var environment = Env(new()
        {
            ["LANGFUSE_RELAY_FSYNC"] = "maybe",
            ["LANGFUSE_RELAY_BODY_TIMEOUT"] = "0",
            ["LANGFUSE_TIMEOUT"] = "soon",
            ["LANGFUSE_RELAY_PUBLIC_KEY"] = "pk-lf-only-half",
        });
        var appsettings = new Dictionary<string, string?> { ["Relay:MaxPendingRequests"] = "none" };

        var options = RelayOptions.Read(Configuration(environment, appsettings), environment, []);
        var result = new RelayOptionsValidator().Validate(null, options);

        result.Failed.ShouldBeTrue();
        var failures = result.Failures!.ToList();
        failures.ShouldContain(f => f.StartsWith("LANGFUSE_RELAY_FSYNC=maybe", StringComparison.Ordinal));
        failures.ShouldContain(f => f.StartsWith("LANGFUSE_RELAY_BODY_TIMEOUT=0", StringComparison.Ordinal));
        failures.ShouldContain(f => f.StartsWith("LANGFUSE_TIMEOUT=\"soon\"", StringComparison.Ordinal), string.Join("\n", failures));
        failures.ShouldContain(f => f.StartsWith("Relay:MaxPendingRequests=none", StringComparison.Ordinal));
        failures.ShouldContain(f => f.Contains("set together or not at all", StringComparison.Ordinal));
        failures.Count.ShouldBe(5, string.Join("\n", failures));
        string.Join("\n", failures).ShouldNotContain("pk-lf-only-half");
        string.Join("\n", failures).ShouldNotContain("sk-lf-test");
    }

    [Fact]
    public void MissingUpstreamKeys_AreRequired()
    {
        var environment = Env([], withKeys: false);

        var result = new RelayOptionsValidator().Validate(null, RelayOptions.Read(Configuration(environment), environment, []));

        result.Failures!.ShouldContain("LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are required: the relay forwards to Langfuse with them.");
    }

    [Fact]
    public async Task Program_InvalidConfiguration_Exits2_ListingEveryProblem_BeforeTouchingTheBufferDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "langfuse-relay-tests", Guid.NewGuid().ToString("N"));
        var environment = Env(new() { ["LANGFUSE_BUFFER_DIR"] = directory, ["LANGFUSE_RELAY_FSYNC"] = "maybe", ["LANGFUSE_RELAY_MAX_INFLIGHT_BYTES"] = "5" });
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await RelayProgram.RunAsync(["--urls", "http://127.0.0.1:0"], environment, stdout, stderr);

        code.ShouldBe(2);
        var error = stderr.ToString();
        error.ShouldStartWith("langfuse-relay: invalid configuration: ");
        error.ShouldContain("LANGFUSE_RELAY_FSYNC=maybe is not true or false.");
        error.ShouldContain("LANGFUSE_RELAY_MAX_INFLIGHT_BYTES=5 is not a whole number");
        stdout.ToString().ShouldBeEmpty();
        Directory.Exists(directory).ShouldBeFalse();
    }

    private static Func<string, string?> Env(Dictionary<string, string> extra, bool withKeys = true)
    {
        var all = new Dictionary<string, string>(withKeys ? Keys : []);
        foreach (var (key, value) in extra)
        {
            all[key] = value;
        }

        return name => all.GetValueOrDefault(name);
    }

    /// <summary>The relay's source order: appsettings, environment (mapped), command line.</summary>
    private static IConfigurationRoot Configuration(Func<string, string?> environment, Dictionary<string, string?>? appsettings = null, string[]? args = null)
    {
        var builder = new ConfigurationBuilder().AddInMemoryCollection(appsettings ?? []).AddCommandLine(args ?? []);
        RelayConfiguration.AddLangfuseVariables(builder, environment);
        return builder.Build();
    }
}
