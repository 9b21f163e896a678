using Langfuse.Agents.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.DependencyInjection;

public sealed class LangfuseServiceCollectionExtensionsTests
{
    [Fact]
    public void AddLangfuse_WithConfiguration_ReadsTheLangfuseSection_ThenCodeWins()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Langfuse:PublicKey"] = "pk-lf-config",
            ["Langfuse:SecretKey"] = "sk-lf-config",
            ["Langfuse:BaseUrl"] = "http://127.0.0.1:3000",
            ["Langfuse:FlushAt"] = "7",
            ["Langfuse:Timeout"] = "2.5",
            ["Langfuse:SampleRate"] = "0.25",
            ["Langfuse:IngestionProtocol"] = "legacy",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddLangfuse(configuration, o => o.FlushAt = 9);

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<LangfuseOptions>>().Value;
        options.PublicKey.ShouldBe("pk-lf-config");
        options.BaseUrl.ShouldBe(new Uri("http://127.0.0.1:3000/"));
        options.Timeout.ShouldBe(TimeSpan.FromSeconds(2.5));
        options.SampleRate.ShouldBe(0.25);
        options.IngestionProtocol.ShouldBe(IngestionProtocol.Legacy);
        options.FlushAt.ShouldBe(9);
    }

    [Fact]
    public void AddLangfuse_AcceptsTheSectionItself()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Langfuse:Environment"] = "staging",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddLangfuse(configuration.GetSection("Langfuse"));

        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IOptions<LangfuseOptions>>().Value.Environment.ShouldBe("staging");
    }

    [Fact]
    public void AddLangfuse_WithInvalidValues_ReplacesEachAndReportsItOnce_NamingTheConfigurationKey_AndTracingStaysOn()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Langfuse:PublicKey"] = "pk-lf-x",
            ["Langfuse:SecretKey"] = "sk-lf-secret-value",
            ["Langfuse:BaseUrl"] = "http://127.0.0.1:9",
            ["Langfuse:SampleRate"] = "lots",
            ["Langfuse:FlushAt"] = "0",
            ["Langfuse:BufferEnabled"] = "false",
        }).Build();
        using var logging = new CapturingLoggerFactory();
        var services = new ServiceCollection().AddSingleton<ILoggerFactory>(logging);
        services.AddLangfuse(configuration);

        using var provider = services.BuildServiceProvider();
        var tracer = provider.GetRequiredService<LangfuseTracer>();
        tracer.IsExporting.ShouldBeTrue();
        using (tracer.StartSpan("still works"))
        {
        }

        var logs = logging.Lines;
        var replaced = logs.Where(l => l.Contains("could not be used as given", StringComparison.Ordinal)).ShouldHaveSingleItem();
        replaced.ShouldContain("Langfuse:SampleRate=\"lots\" is not a number (with a '.' as decimal separator); using 1 instead.");
        replaced.ShouldContain("Langfuse:FlushAt=\"0\" must be from 1 to 100000; using 512 instead.");
        logs.ShouldAllBe(l => !l.Contains("sk-lf-secret-value", StringComparison.Ordinal));
    }
}
