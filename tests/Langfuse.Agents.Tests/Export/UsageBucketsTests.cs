using System.Text.Json;
using CsCheck;
using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Export;

/// <summary>Provider token counts become Langfuse's own usage buckets, which add up to the total.</summary>
public sealed class UsageBucketsTests : IDisposable
{
    private readonly LangfuseTracer _tracer = new(new LangfuseOptions(), NullLoggerFactory.Instance);

    public void Dispose() => _tracer.Dispose();

    [Fact]
    public void OpenAiPromptTokensIncludingCachedOnes_AreSentAsUncachedInputPlusCachedBucket()
    {
        // OpenAI: prompt_tokens 43 of which prompt_tokens_details.cached_tokens 25; completion_tokens 7.
        var generation = _tracer.StartGeneration("plan", "gpt-4o");
        generation.SetUsage(input: 43, output: 7, total: 50).SetUsage("cached_input", 25);
        generation.End();

        Buckets(generation).ShouldBe(new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["input"] = 18, ["input_cached_tokens"] = 25, ["output"] = 7, ["total"] = 50,
        });
    }

    [Fact]
    public void AnthropicCountsPassedAsTheReadmeSays_GiveItsCacheBuckets()
    {
        // Anthropic: input_tokens 10 (uncached only), cache_read_input_tokens 300, cache_creation_input_tokens 40, output_tokens 5.
        var generation = _tracer.StartGeneration("answer", "claude-sonnet-4");
        generation.SetUsage(input: 10 + 300 + 40, output: 5, cachedInput: 300, cacheCreationInput: 40);
        generation.End();

        Buckets(generation).ShouldBe(new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["input"] = 10, ["input_cache_creation"] = 40, ["input_cached_tokens"] = 300, ["output"] = 5, ["total"] = 355,
        });
    }

    [Fact]
    public void BucketsOfTheirOwnName_CountAsPartOfInputOrOutput_OrOnTop()
    {
        var generation = _tracer.StartGeneration("speak", "gpt-4o-audio");
        generation.SetUsage(input: 100, output: 50, reasoning: 10)
            .SetUsage("input_audio_tokens", 30)
            .SetUsage("output_audio_tokens", 20)
            .SetUsage("image", 7);
        generation.End();

        Buckets(generation).ShouldBe(new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["image"] = 7, ["input"] = 70, ["input_audio_tokens"] = 30, ["output"] = 20, ["output_audio_tokens"] = 20,
            ["output_reasoning_tokens"] = 10, ["total"] = 157,
        });
    }

    [Fact]
    public void OnlyATotal_IsSentAsTheTotal()
    {
        var generation = _tracer.StartGeneration("embed", "text-embedding-3-small");
        generation.SetUsage(total: 12);
        generation.End();

        Buckets(generation).ShouldBe(new SortedDictionary<string, long>(StringComparer.Ordinal) { ["total"] = 12 });
    }

    [Fact]
    public void NegativeAndHugeCounts_AreIgnored()
    {
        var generation = _tracer.StartGeneration("g");
        generation.SetUsage(input: -1, output: long.MaxValue).SetUsage("input_audio_tokens", -5).SetUsage("x", (1L << 53) + 1);
        generation.End();

        generation.UsageDetails.ShouldBeEmpty();
        new ObservationPreparer(new LangfuseOptions(), NullLogger.Instance).Prepare(generation)!.UsageDetails.ShouldBeNull();
    }

    [Fact]
    public void AnyProviderNumbers_GiveBucketsThatLangfuseAddsUpToTheTotal_WithoutWarning()
    {
        var count = Gen.Long[0, 2_000_000].Nullable(0.3);
        var extra = Gen.Select(Gen.OneOf("input_audio_tokens", "output_audio_tokens", "image", "input_image", "cache_read_input_tokens"), Gen.Long[0, 5_000]);
        Gen.Select(count, count, count, count, count, count, extra.List[0, 3]).Sample((input, output, total, cached, creation, reasoning, extras) =>
        {
            var generation = _tracer.StartGeneration("g");
            generation.SetUsage(input, output, total, cached, creation, reasoning);
            foreach (var (name, value) in extras)
            {
                generation.SetUsage(name, value);
            }

            generation.End();
            var row = ThroughLangfuse(generation);
            row.Warnings.ShouldBeEmpty();
            if (row.Observations.Single().UsageDetails.Count > 1)
            {
                row.Observations.Single().NonTotalTokens.ShouldBe(row.Observations.Single().TotalTokens);
            }
        }, iter: 1000);
    }

    [Fact]
    public void ConsistentOpenAiUsage_ShowsAsLangfuseShowsTheSameUsageSentInOpenAisOwnShape()
    {
        var gen = Gen.Select(Gen.Long[0, 1_000_000], Gen.Long[0, 1_000_000], Gen.Double[0, 1], Gen.Double[0, 1]);
        gen.Sample((prompt, completion, cachedShare, reasoningShare) =>
        {
            var cached = (long)(prompt * cachedShare);
            var reasoning = (long)(completion * reasoningShare);
            var generation = _tracer.StartGeneration("g", "gpt-4o");
            generation.SetUsage(input: prompt, output: completion, total: prompt + completion, cachedInput: cached, reasoning: reasoning);
            generation.End();

            var ours = ThroughLangfuse(generation).Observations.Single();
            var openAiShape = $$"""
                {"prompt_tokens":{{prompt}},"completion_tokens":{{completion}},"total_tokens":{{prompt + completion}},
                 "prompt_tokens_details":{"cached_tokens":{{cached}}},"completion_tokens_details":{"reasoning_tokens":{{reasoning}}} }
                """;
            var theirs = LangfuseIngestionModel.FromOtlp([UsageSpan(openAiShape)]).Observations.Single();
            ours.UsageDetails.OrderBy(kv => kv.Key, StringComparer.Ordinal).ShouldBe(theirs.UsageDetails.OrderBy(kv => kv.Key, StringComparer.Ordinal));
            ours.InputTokens.ShouldBe(prompt);
            ours.OutputTokens.ShouldBe(completion);
            ours.TotalTokens.ShouldBe(prompt + completion);
        }, iter: 500);
    }

    private static IngestedView ThroughLangfuse(LangfuseGeneration generation)
    {
        var prepared = new ObservationPreparer(new LangfuseOptions(), NullLogger.Instance).Prepare(generation)!;
        return LangfuseIngestionModel.FromOtlp([UsageSpan(prepared.UsageDetails)]);
    }

    private static ReceivedSpan UsageSpan(string? usageDetails) => new()
    {
        TraceId = ExportSamples.TraceHex,
        SpanId = ExportSamples.ChildSpanHex,
        Name = "g",
        Attributes = usageDetails is null ? [] : new Dictionary<string, object?> { ["langfuse.observation.usage_details"] = usageDetails },
        ResourceAttributes = new Dictionary<string, object?>(),
    };

    private static SortedDictionary<string, long> Buckets(LangfuseGeneration generation)
    {
        var prepared = new ObservationPreparer(new LangfuseOptions(), NullLogger.Instance).Prepare(generation)!;
        using var json = JsonDocument.Parse(prepared.UsageDetails!);
        return new SortedDictionary<string, long>(
            json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()), StringComparer.Ordinal);
    }
}
