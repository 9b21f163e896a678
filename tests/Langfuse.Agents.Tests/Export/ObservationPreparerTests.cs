using System.Text.Json;
using Langfuse.Agents.Internal.Export;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Export;

public sealed class ObservationPreparerTests : IDisposable
{
    private readonly LangfuseCapture _capture = new();
    private readonly LangfuseTracer _tracer;

    public ObservationPreparerTests()
    {
        _tracer = new LangfuseTracer(new LangfuseOptions { Capture = _capture }, NullLoggerFactory.Instance);
    }

    public void Dispose() => _tracer.Dispose();

    [Fact]
    public void Strings_StayPlain_ObjectsBecomeJson()
    {
        var observation = Ended(o =>
        {
            o.Input = "plain text";
            o.Output = new { Answer = 42, Items = new[] { "a", "b" } };
            o.SetMetadata("attempt", 2);
        });

        var prepared = Preparer().Prepare(observation)!;
        prepared.Input.ShouldBe("plain text");
        prepared.InputIsPlainString.ShouldBeTrue();
        prepared.Output.ShouldBe("""{"answer":42,"items":["a","b"]}""");
        prepared.OutputIsPlainString.ShouldBeFalse();
        JsonDocument.Parse(prepared.Metadata!).RootElement.GetProperty("attempt").GetInt32().ShouldBe(2);
    }

    [Fact]
    public void CyclesAndThrowingGetters_NeverLoseTheObservation()
    {
        var node = new Node();
        node.Next = node;
        var observation = Ended(o =>
        {
            o.Input = node;
            o.Output = new Throwing();
        });

        var prepared = Preparer().Prepare(observation)!;
        prepared.Input.ShouldBe("""{"next":null}""");
        prepared.Output.ShouldNotBeNull().ShouldStartWith("<unserializable Throwing");
    }

    [Fact]
    public void Mask_AppliesToInputOutputAndMetadata_AndAFailingMaskMasksFully()
    {
        var observation = Ended(o =>
        {
            o.Input = "mail me at jane@example.com";
            o.Output = "ok";
            o.SetMetadata("email", "jane@example.com");
        });

        var redacting = Preparer(new LangfuseOptions { Mask = v => v is string s ? s.Replace("jane@example.com", "[email]", StringComparison.Ordinal) : v });
        redacting.Prepare(observation)!.Input.ShouldBe("mail me at [email]");

        var failing = Preparer(new LangfuseOptions { Mask = _ => throw new InvalidOperationException("bug in mask") });
        var prepared = failing.Prepare(observation)!;
        prepared.Input.ShouldBe(ObservationPreparer.MaskFailedValue);
        prepared.Output.ShouldBe(ObservationPreparer.MaskFailedValue);
        prepared.Metadata.ShouldBe(ObservationPreparer.MaskFailedValue);
    }

    [Fact]
    public void OversizedItem_IsShrunkLargestFirst_UntilItFits()
    {
        var observation = Ended(o =>
        {
            o.Input = new string('i', 700_000);
            o.Output = new string('o', 600_000);
            o.SetMetadata("small", "kept");
        });

        var prepared = Preparer(new LangfuseOptions { MaxEventBytes = 1_000_000 }).Prepare(observation)!;
        prepared.Input.ShouldBe(ObservationPreparer.TruncatedValue);
        prepared.Output.ShouldBe(new string('o', 600_000)); // after the input went, the item fits
        prepared.Metadata.ShouldNotBeNull().ShouldContain("kept");
        prepared.EstimatedBytes.ShouldBeLessThanOrEqualTo(1_000_000);
    }

    [Fact]
    public void ItemThatCannotShrinkEnough_IsRefused()
    {
        var observation = Ended(o => o.Name = new string('n', 5_000));
        Preparer(new LangfuseOptions { MaxEventBytes = 2_000 }).Prepare(observation).ShouldBeNull();
    }

    [Fact]
    public void TraceLevelFields_ComeFromTheTrace_AndOptionsFillDefaults()
    {
        LangfuseObservation root;
        using (root = _tracer.StartTrace("q", sessionId: "s", userId: "u"))
        {
            root.Trace.AddTags("t1");
            root.Trace.Output = new { done = true };
        }

        var prepared = Preparer(new LangfuseOptions { Environment = "prod", Release = "r1" }).Prepare(root)!;
        prepared.TraceName.ShouldBe("q");
        prepared.SessionId.ShouldBe("s");
        prepared.UserId.ShouldBe("u");
        prepared.Tags.ShouldBe(["t1"]);
        prepared.Environment.ShouldBe("prod");
        prepared.Release.ShouldBe("r1");
        prepared.IsLocalRoot.ShouldBeTrue();
        prepared.TraceOutput.ShouldBe("""{"done":true}""");
    }

    private static ObservationPreparer Preparer(LangfuseOptions? options = null) => new(options ?? new LangfuseOptions(), NullLogger.Instance);

    private LangfuseObservation Ended(Action<LangfuseObservation> configure)
    {
        var observation = _tracer.StartSpan("step");
        configure(observation);
        observation.End();
        return observation;
    }

    private sealed class Node
    {
        public Node? Next { get; set; }
    }

    private sealed class Throwing
    {
        private readonly string _reason = "getter failed";

        public string Value => throw new InvalidOperationException(_reason);
    }
}
