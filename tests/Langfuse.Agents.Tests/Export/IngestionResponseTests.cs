using System.Text;
using System.Text.Json;
using Langfuse.Agents.Internal.Export;
using Shouldly;
using Xunit;

// Test names follow the house style Method_Condition_Result (STYLE.md, item 13).
#pragma warning disable CA1707

namespace Langfuse.Agents.Tests.Export;

public sealed class IngestionResponseTests
{
    [Fact]
    public void TryParse_Real207Answer_ReadsSuccessesAndErrors()
    {
        const string body = """
            {
              "successes": [
                { "id": "01c15207-d4e1-4694-9688-4a14b3209c72", "status": 201 },
                { "id": "364d252163b4424b-create", "status": 201 }
              ],
              "errors": [
                {
                  "id": "b94a9fd953213b13-create",
                  "status": 400,
                  "message": "Invalid request data",
                  "error": [{ "code": "invalid_type", "expected": "string", "received": "undefined", "path": ["name"], "message": "Required" }]
                },
                { "id": "4b49e05982b2d55a-create", "status": 400, "message": "Event type not accepted", "error": "span-create is not accepted" },
                { "id": "score-1-event", "status": 500, "error": null }
              ]
            }
            """;

        var response = Parse(body).ShouldNotBeNull();

        response.Successes.ShouldNotBeNull().Select(s => (s.Id, s.Status)).ShouldBe(
            [("01c15207-d4e1-4694-9688-4a14b3209c72", 201), ("364d252163b4424b-create", 201)]);
        var errors = response.Errors.ShouldNotBeNull();
        errors.Count.ShouldBe(3);
        errors[0].Id.ShouldBe("b94a9fd953213b13-create");
        errors[0].Status.ShouldBe(400);
        errors[0].Message.ShouldBe("Invalid request data");
        errors[0].Error.ShouldNotBeNull().ValueKind.ShouldBe(JsonValueKind.Array);
        errors[0].ErrorText.ShouldNotBeNull().ShouldContain("invalid_type");
        errors[1].Error.ShouldNotBeNull().ValueKind.ShouldBe(JsonValueKind.String);
        errors[1].ErrorText.ShouldBe("span-create is not accepted");
        errors[2].Status.ShouldBe(500);
        errors[2].Message.ShouldBeNull();
        errors[2].ErrorText.ShouldBeNull();
    }

    [Fact]
    public void TryParse_ErrorObject_IsKeptAsJson()
    {
        var response = Parse("""{"errors":[{"id":"a","status":400,"error":{"issues":[1,2]}}]}""").ShouldNotBeNull();
        var error = response.Errors.ShouldNotBeNull().ShouldHaveSingleItem();
        error.Error.ShouldNotBeNull().GetProperty("issues").GetArrayLength().ShouldBe(2);
        error.ErrorText.ShouldBe("""{"issues":[1,2]}""");
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"successes":null,"errors":null}""")]
    [InlineData("""{"message":"ok"}""")]
    public void TryParse_MissingOrNullArrays_BecomeEmpty(string body)
    {
        var response = Parse(body).ShouldNotBeNull();
        response.Successes.ShouldNotBeNull().ShouldBeEmpty();
        response.Errors.ShouldNotBeNull().ShouldBeEmpty();
    }

    [Fact]
    public void TryParse_UnknownFieldsAndNullEntries_AreTolerated()
    {
        var response = Parse("""{"successes":[null,{"id":"a","status":"201","extra":{"x":1}}],"errors":[],"requestId":"r1"}""").ShouldNotBeNull();
        var success = response.Successes.ShouldNotBeNull().ShouldHaveSingleItem();
        success.Id.ShouldBe("a");
        success.Status.ShouldBe(201);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("Body exceeded 4.5mb limit")]
    [InlineData("<html>502 Bad Gateway</html>")]
    [InlineData("[1,2,3]")]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("""{"successes":{"id":"a"}}""")]
    [InlineData("""{"successes":[{"id":"a","status":"not a number"}]}""")]
    [InlineData("""{"successes":[{"id":7,"status":201}]}""")]
    [InlineData("""{"successes":[{"id":"a","status":201}""")]
    public void TryParse_Garbage_ReturnsNull(string body)
    {
        Parse(body).ShouldBeNull();
    }

    [Fact]
    public void TryParse_InvalidUtf8_ReturnsNull()
    {
        IngestionResponse.TryParse([0xFF, 0xFE, 0x7B, 0x7D]).ShouldBeNull();
    }

    [Fact]
    public void TryParse_DeepNesting_ReturnsNull()
    {
        var body = "{\"errors\":[{\"error\":" + new string('[', 10_000) + new string(']', 10_000) + "}]}";
        Parse(body).ShouldBeNull();
    }

    [Fact]
    public void TryParse_String_MatchesUtf8()
    {
        IngestionResponse.TryParse((string?)null).ShouldBeNull();
        IngestionResponse.TryParse("not json").ShouldBeNull();
        var response = IngestionResponse.TryParse("""{"successes":[{"id":"é","status":201}]}""").ShouldNotBeNull();
        response.Successes.ShouldNotBeNull().ShouldHaveSingleItem().Id.ShouldBe("é");
        response.Errors.ShouldNotBeNull().ShouldBeEmpty();
    }

    [Fact]
    public async Task ReadAsync_A207ListingTenThousandErrors_IsReadWhole_AndLooksUpPerEvent()
    {
        var body = "{\"successes\":[{\"id\":\"ok-1\",\"status\":201}],\"errors\":[" +
            string.Join(",", Enumerable.Range(0, 10_000).Select(i => $"{{\"id\":\"e{i}\",\"status\":{(i % 2 == 0 ? 500 : 400)},\"message\":\"Invalid request data\",\"error\":\"type not accepted\"}}")) + "]}";
        Encoding.UTF8.GetByteCount(body).ShouldBeGreaterThan(64 * 1024);

        var response = (await IngestionResponse.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(body)), IngestionResponse.MaxBodyBytesFor(1_000_000), CancellationToken.None)).ShouldNotBeNull();

        response.Errors.ShouldNotBeNull().Count.ShouldBe(10_000);
        response.IsAccepted("ok-1").ShouldBeTrue();
        response.IsAccepted("e1").ShouldBeFalse();
        response.TryGetError("e4", out var error).ShouldBeTrue();
        error.Status.ShouldBe(500);
        response.IsAccepted("never-mentioned").ShouldBeFalse();
        response.TryGetError("never-mentioned", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task ReadAsync_ABodyLongerThanTheLimit_IsUnreadable_NotTruncated()
    {
        var body = Encoding.UTF8.GetBytes("{\"successes\":[" + string.Join(",", Enumerable.Range(0, 1_000).Select(i => $"{{\"id\":\"e{i}\",\"status\":201}}")) + "]}");

        (await IngestionResponse.ReadAsync(new MemoryStream(body), body.Length - 1, CancellationToken.None)).ShouldBeNull();
        (await IngestionResponse.ReadAsync(new MemoryStream(body), body.Length, CancellationToken.None)).ShouldNotBeNull().Successes!.Count.ShouldBe(1_000);
    }

    [Fact]
    public void IsAccepted_WhenAnIdIsBothAcceptedAndFailed_TheErrorWins()
    {
        var response = Parse("""{"successes":[{"id":"a","status":201}],"errors":[{"id":"a","status":500}]}""").ShouldNotBeNull();
        response.IsAccepted("a").ShouldBeFalse();
        response.TryGetError("a", out var error).ShouldBeTrue();
        error.Status.ShouldBe(500);
    }

    [Theory]
    [InlineData(0, 64 * 1024)]
    [InlineData(1_000, (64 * 1024) + 16_000)]
    [InlineData(long.MaxValue, IngestionResponse.MaxBodyBytes)]
    public void MaxBodyBytesFor_IsProportionalToTheRequest_AndBounded(long requestBytes, long expected)
    {
        IngestionResponse.MaxBodyBytesFor(requestBytes).ShouldBe(expected);
    }

    private static IngestionResponse? Parse(string body) => IngestionResponse.TryParse(Encoding.UTF8.GetBytes(body));
}
