using System.Text;
using Langfuse.Agents.Relay.Internal;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

public sealed class OtlpRequestValidatorTests
{
    [Fact]
    public void Protobuf_CountsSpans() =>
        (OtlpRequestValidator.ValidateProtobuf(Requests.OtlpProtobuf(1, 7), out var spans), spans).ShouldBe((null, 7));

    [Fact]
    public void Protobuf_Empty_IsValidWithNoSpans() =>
        (OtlpRequestValidator.ValidateProtobuf([], out var spans), spans).ShouldBe((null, 0));

    [Theory]
    [InlineData(new byte[] { 0x0A })]                      // truncated length
    [InlineData(new byte[] { 0x08, 0x01 })]                // resource_spans as a varint
    [InlineData(new byte[] { 0x0B })]                      // group wire type
    [InlineData(new byte[] { 0x0A, 0x02, 0x12, 0x00 })]    // a scope without spans is fine, but here ...
    public void Protobuf_Malformed_IsRejected(byte[] body)
    {
        var error = OtlpRequestValidator.ValidateProtobuf(body, out _);
        if (body.Length == 4)
        {
            error.ShouldBeNull(); // ... an empty ScopeSpans is valid
            return;
        }

        error.ShouldNotBeNull();
    }

    [Fact]
    public void Protobuf_TruncatedRequest_IsRejected()
    {
        var body = Requests.OtlpProtobuf(1, 2);

        OtlpRequestValidator.ValidateProtobuf(body.AsSpan(0, body.Length - 3), out _).ShouldNotBeNull();
    }

    [Fact]
    public void Json_CountsSpans() =>
        (OtlpRequestValidator.ValidateJson(Encoding.UTF8.GetBytes(Requests.OtlpJson(3)), out var spans), spans).ShouldBe((null, 1));

    [Theory]
    [InlineData("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"0000000000000001"}]}]}]}""", "traceId")]
    [InlineData("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000001","spanId":"xyz"}]}]}]}""", "spanId")]
    [InlineData("""{"resourceSpans":{}}""", "array")]
    [InlineData("""[]""", "object")]
    public void Json_Invalid_IsRejected(string json, string expected) =>
        OtlpRequestValidator.ValidateJson(Encoding.UTF8.GetBytes(json), out _)!.ShouldContain(expected);
}
