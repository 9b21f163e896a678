using System.Security.Cryptography;
using System.Text;
using Langfuse.Agents.Internal;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests;

public sealed class IdsTests
{
    [Fact]
    public void TraceAndSpanIds_RoundTripThroughHex()
    {
        for (var i = 0; i < 100; i++)
        {
            var (high, low) = Ids.NewTraceId();
            var hex = Ids.TraceIdToHex(high, low);
            hex.ShouldMatch("^[0-9a-f]{32}$");
            Ids.TryParseTraceId(hex, out var h2, out var l2).ShouldBeTrue();
            (h2, l2).ShouldBe((high, low));

            var span = Ids.NewSpanId();
            Ids.TryParseSpanId(Ids.SpanIdToHex(span), out var s2).ShouldBeTrue();
            s2.ShouldBe(span);
        }
    }

    [Theory]
    [InlineData("00000000000000000000000000000000")]
    [InlineData("0af7651916cd43dd8448eb211c80319")]
    [InlineData("0af7651916cd43dd8448eb211c80319z")]
    public void InvalidTraceIds_AreRejected(string hex) => Ids.TryParseTraceId(hex, out _, out _).ShouldBeFalse();

    [Fact]
    public void Sampling_FollowsLangfusesSha256Rule()
    {
        // The server's rule: first 8 hex chars of sha256(traceId) / 0xFFFFFFFF < rate.
        var kept = 0;
        for (var i = 0; i < 2000; i++)
        {
            var (high, low) = Ids.NewTraceId();
            var hex = Ids.TraceIdToHex(high, low);
            var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(hex)));
            var expected = Convert.ToUInt32(digest[..8], 16) / (double)0xFFFFFFFF < 0.3;
            Ids.IsSampled(high, low, 0.3).ShouldBe(expected);
            Ids.IsSampled(hex, 0.3).ShouldBe(expected);
            Ids.IsSampled(hex.ToUpperInvariant(), 0.3).ShouldBe(expected);
            kept += expected ? 1 : 0;
        }

        kept.ShouldBeInRange(450, 750); // ~30 % of 2000
    }

    [Fact]
    public void Sampling_ExtremesNeedNoHash()
    {
        Ids.IsSampled(1, 1, 1.0).ShouldBeTrue();
        Ids.IsSampled(1, 1, 0.0).ShouldBeFalse();
    }
}
