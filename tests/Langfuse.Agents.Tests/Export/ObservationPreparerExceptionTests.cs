using System.Text.Json;
using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Export;

/// <summary>Exceptions reach Langfuse where it shows them, and the mask sees every piece of user text.</summary>
public sealed class ObservationPreparerExceptionTests : IDisposable
{
    private readonly LangfuseTracer _tracer = new(new LangfuseOptions(), NullLoggerFactory.Instance);

    public void Dispose() => _tracer.Dispose();

    [Fact]
    public void RecordedException_TypeAndStackTraceGoToMetadata_MessageToTheStatus()
    {
        var observation = Failed(Thrown(() => throw new TimeoutException("GET https://docs.example.org timed out")));

        var prepared = Preparer().Prepare(observation)!;

        prepared.StatusMessage.ShouldBe("TimeoutException: GET https://docs.example.org timed out");
        var metadata = Metadata(prepared);
        metadata["exception.type"].ShouldBe("System.TimeoutException");
        metadata["exception.stacktrace"].ShouldContain(nameof(Thrown));
        metadata["step"].ShouldBe("kept", "the observation's own metadata stays");
    }

    [Fact]
    public void InnerExceptions_AddTheirTypesAndStacks_ButNeverTheirMessages()
    {
        var inner = Thrown(() => throw new IOException("inner secret"));
        var outer = Thrown(() => throw new InvalidOperationException("outer", inner));

        var stack = Metadata(Preparer().Prepare(Failed(outer))!)["exception.stacktrace"];

        stack.ShouldContain("System.IO.IOException");
        stack.ShouldNotContain("inner secret");
    }

    [Fact]
    public void StackTrace_IsBounded_AtALineBoundary()
    {
        var deep = Thrown(() => Recurse(200));

        var stack = Metadata(Preparer().Prepare(Failed(deep))!)["exception.stacktrace"];

        stack.Length.ShouldBeLessThanOrEqualTo(ObservationPreparer.MaxStackTraceChars);
        stack.ShouldEndWith("more lines)");
        deep.StackTrace!.Length.ShouldBeGreaterThan(ObservationPreparer.MaxStackTraceChars, "the test needs a stack larger than the bound");
    }

    [Fact]
    public void ExceptionWithoutStackTrace_SendsItsTypeOnly()
    {
        var metadata = Metadata(Preparer().Prepare(Failed(new TimeoutException("never thrown")))!);
        metadata["exception.type"].ShouldBe("System.TimeoutException");
        metadata.ShouldNotContainKey("exception.stacktrace");
    }

    [Fact]
    public void PrivacyMode_KeepsTypeAndStackTrace_DropsEveryMessage()
    {
        var observation = Failed(Thrown(() => throw new TimeoutException("user text in the message")));

        var prepared = Preparer(new LangfuseOptions { PrivacyMode = true }).Prepare(observation)!;

        prepared.StatusMessage.ShouldBe("TimeoutException");
        prepared.Exception!.Message.ShouldBeEmpty();
        var metadata = Metadata(prepared);
        metadata["exception.type"].ShouldBe("System.TimeoutException");
        metadata["exception.stacktrace"].ShouldContain(nameof(Thrown));
        prepared.Metadata!.ShouldNotContain("user text");
    }

    [Fact]
    public void Mask_SeesStatusMessagesExceptionMessagesAndScoreComments()
    {
        var options = new LangfuseOptions { Mask = v => v is string s ? s.Replace("jane@example.com", "[email]", StringComparison.Ordinal) : v };
        var observation = Failed(Thrown(() => throw new InvalidOperationException("no reply from jane@example.com")));
        var score = _tracer.ScoreTrace(observation.TraceId, "helpful", 1, comment: "jane@example.com liked it")!;

        var preparer = Preparer(options);
        var prepared = preparer.Prepare(observation)!;

        prepared.StatusMessage.ShouldBe("InvalidOperationException: no reply from [email]");
        prepared.Exception!.Message.ShouldBe("no reply from [email]");
        preparer.Prepare(score).Comment.ShouldBe("[email] liked it");
    }

    [Fact]
    public void Mask_ThatThrowsOnText_MasksItFully()
    {
        var options = new LangfuseOptions { Mask = v => v is string ? throw new FormatException("bad") : v };
        var observation = Failed(new TimeoutException("secret"));

        var prepared = Preparer(options).Prepare(observation)!;

        prepared.StatusMessage.ShouldBe(ObservationPreparer.MaskFailedValue);
        prepared.Exception!.Message.ShouldBe(ObservationPreparer.MaskFailedValue);
        Metadata(prepared)["exception.type"].ShouldBe("System.TimeoutException", "the type is not user text and is never masked");
    }

    [Fact]
    public void FailingMask_IsReportedOncePerMinute_WithACount()
    {
        using var logs = new CapturingLoggerFactory();
        var clock = new FakeTimeProvider(FakeClock.Start);
        var options = new LangfuseOptions { Mask = _ => throw new InvalidOperationException("bug in mask") };
        var preparer = new ObservationPreparer(options, logs.CreateLogger("test"), clock);
        var observation = Ended(o => o.Input = "x");

        for (var i = 0; i < 10; i++)
        {
            preparer.Prepare(observation); // one failure each: the input (null values are never given to the mask)
        }

        MaskLines(logs).Count.ShouldBe(1, "the first failure is reported at once, the rest wait for the minute");
        MaskLines(logs)[0].ShouldContain(" 1 time(s)");

        clock.Advance(TimeSpan.FromSeconds(59));
        preparer.Prepare(observation);
        MaskLines(logs).Count.ShouldBe(1);

        clock.Advance(TimeSpan.FromSeconds(1));
        preparer.Prepare(observation);
        MaskLines(logs).Count.ShouldBe(2);
        MaskLines(logs)[1].ShouldContain(" 11 time(s)");
    }

    private static List<string> MaskLines(CapturingLoggerFactory logs) =>
        [.. logs.Lines.Where(l => l.Contains("mask", StringComparison.OrdinalIgnoreCase))];

    private static ObservationPreparer Preparer(LangfuseOptions? options = null) => new(options ?? new LangfuseOptions(), NullLogger.Instance);

    private static Dictionary<string, string> Metadata(PreparedObservation prepared)
    {
        using var json = JsonDocument.Parse(prepared.Metadata!);
        return json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString());
    }

    private static Exception Thrown(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            return ex;
        }

        throw new InvalidOperationException("expected the action to throw");
    }

    private static void Recurse(int depth)
    {
        if (depth == 0)
        {
            throw new InvalidOperationException("deep");
        }

        Recurse(depth - 1);
    }

    private LangfuseObservation Failed(Exception exception) => Ended(o => o.SetMetadata("step", "kept").RecordException(exception));

    private LangfuseObservation Ended(Action<LangfuseObservation> configure)
    {
        var observation = _tracer.StartTool("fetch");
        configure(observation);
        observation.End();
        return observation;
    }
}
