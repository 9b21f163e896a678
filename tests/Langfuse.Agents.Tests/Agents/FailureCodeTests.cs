using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Agents;

public sealed class FailureCodeTests
{
    [Theory]
    [InlineData("timeout", "timeout")]
    [InlineData("  Quota-Exceeded ", "quota_exceeded")]
    [InlineData("tool/timeout", "tool_timeout")]
    [InlineData("", "unknown")]
    [InlineData(null, "unknown")]
    public void Constructor_NormalizesToSnakeCase(string? value, string expected)
    {
        new FailureCode(value).Value.ShouldBe(expected);
    }

    [Fact]
    public void Constructor_CapsTheLength_AndDefaultIsUnknown()
    {
        new FailureCode(new string('x', 200)).Value.Length.ShouldBe(64);
        default(FailureCode).ShouldBe(FailureCode.Unknown);
        ((FailureCode)"RATE_LIMITED").ShouldBe(FailureCode.RateLimited);
    }

    public static TheoryData<Exception, string> Exceptions => new()
    {
        { new TimeoutException(), "timeout" },
        { new TaskCanceledException("HttpClient.Timeout", new TimeoutException()), "timeout" },
        { new OperationCanceledException(), "cancelled" },
        { new HttpRequestException("429", null, HttpStatusCode.TooManyRequests), "rate_limited" },
        { new HttpRequestException("401", null, HttpStatusCode.Unauthorized), "unauthorized" },
        { new HttpRequestException("404", null, HttpStatusCode.NotFound), "not_found" },
        { new HttpRequestException("504", null, HttpStatusCode.GatewayTimeout), "timeout" },
        { new HttpRequestException("422", null, HttpStatusCode.UnprocessableEntity), "invalid_request" },
        { new HttpRequestException("503", null, HttpStatusCode.ServiceUnavailable), "unavailable" },
        { new HttpRequestException("refused", new SocketException((int)SocketError.ConnectionRefused)), "connection_failed" },
        { new IOException("reset"), "connection_failed" },
        { new JsonException("bad"), "schema_invalid" },
        { new InvalidOperationException("wrapped", new TimeoutException()), "timeout" },
        { new InvalidOperationException("other"), "unknown" },
    };

    [Theory]
    [MemberData(nameof(Exceptions))]
    public void FromException_ClassifiesCommonFailures(Exception exception, string expected)
    {
        FailureCode.FromException(exception).Value.ShouldBe(expected);
    }
}
