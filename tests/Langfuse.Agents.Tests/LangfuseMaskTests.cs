using System.Text.Json;
using System.Text.Json.Nodes;
using Langfuse.Agents.Internal.Export;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests;

public sealed class LangfuseMaskTests
{
    private static readonly Func<string, string?> Redact = s => s.Replace("jane@example.com", "[email]", StringComparison.Ordinal);

    [Fact]
    public void Apply_ToAString_MasksIt()
    {
        LangfuseMask.Apply("write to jane@example.com", Redact).ShouldBe("write to [email]");
    }

    [Fact]
    public void Apply_ToNestedObjectsArraysAndDictionaries_MasksEveryStringLeaf_KeepsKeysNumbersAndBooleans()
    {
        var value = new
        {
            Messages = new[] { new { Role = "user", Content = "I am jane@example.com" } },
            Profile = new Dictionary<string, object?> { ["jane@example.com"] = new List<object?> { "jane@example.com", 3, true, null } },
            Count = 2,
        };

        var masked = (JsonNode)LangfuseMask.Apply(value, Redact)!;

        masked.ToJsonString().ShouldBe("""{"messages":[{"role":"user","content":"I am [email]"}],"profile":{"jane@example.com":["[email]",3,true,null]},"count":2}""");
    }

    [Fact]
    public void Apply_ToJsonElementJsonDocumentAndJsonNode_MasksTheirStrings()
    {
        const string json = """{"a":["jane@example.com",{"b":"jane@example.com"}],"n":1.5}""";
        const string expected = """{"a":["[email]",{"b":"[email]"}],"n":1.5}""";
        using var document = JsonDocument.Parse(json);

        ((JsonNode)LangfuseMask.Apply(document.RootElement, Redact)!).ToJsonString().ShouldBe(expected);
        ((JsonNode)LangfuseMask.Apply(document, Redact)!).ToJsonString().ShouldBe(expected);
        var node = JsonNode.Parse(json)!;
        ((JsonNode)LangfuseMask.Apply(node, Redact)!).ToJsonString().ShouldBe(expected);
        node.ToJsonString().ShouldBe(json, "the caller's node is not changed");
    }

    [Fact]
    public void Apply_NumbersAndNull_StayAsTheyAre()
    {
        LangfuseMask.Apply(42, Redact).ShouldBe(42);
        LangfuseMask.Apply(null, Redact).ShouldBeNull();
    }

    [Fact]
    public void Apply_AStringMaskReturningNull_DropsThatText()
    {
        ((JsonNode)LangfuseMask.Apply(new[] { "a", "b" }, _ => null)!).ToJsonString().ShouldBe("[null,null]");
    }

    [Fact]
    public void AsTheMask_NestedTextInInputOutputAndMetadataIsMasked_AndTooDeepAValueIsMaskedFully()
    {
        var options = new LangfuseOptions { Mask = LangfuseMask.EveryString(Redact) };
        using var tracer = new LangfuseTracer(new LangfuseOptions(), NullLoggerFactory.Instance);
        var deep = new JsonArray();
        var current = deep;
        for (var i = 0; i < LangfuseMask.MaxDepth + 5; i++)
        {
            var next = new JsonArray();
            current.Add(next);
            current = next;
        }

        var observation = tracer.StartSpan("s", input: new { Query = "from jane@example.com" });
        observation.Output = deep;
        observation.SetMetadata("contact", new[] { "jane@example.com" });
        observation.End();

        var prepared = new ObservationPreparer(options, NullLogger.Instance).Prepare(observation)!;

        prepared.Input.ShouldBe("""{"query":"from [email]"}""");
        prepared.Metadata.ShouldBe("""{"contact":["[email]"]}""");
        prepared.Output.ShouldBe(ObservationPreparer.MaskFailedValue);
    }
}
