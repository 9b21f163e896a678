using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Tracing;

/// <summary>The processor chain as an extension point: what a processor sees, when it may drop, and what a faulty one costs.</summary>
public sealed class LangfuseProcessorTests : IAsyncLifetime
{
    private FakeLangfuseServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeLangfuseServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task EndedObservation_CarriesTheTraceAttributesOfTheMomentItEnded_NotOfTheExport()
    {
        await using (var tracer = CreateTracer())
        {
            using (var root = tracer.StartTrace("first-name", sessionId: "s-1"))
            {
                using (tracer.StartSpan("early-child"))
                {
                }

                // Changed after the child ended but before anything was exported (only explicit flushes send).
                root.Trace.Name = "second-name";
                root.Trace.SessionId = "s-2";
            }

            (await tracer.FlushAsync(TimeSpan.FromSeconds(10))).AllDelivered.ShouldBeTrue();
        }

        var spans = _server.Spans;
        var child = spans.Single(s => s.Name == "early-child");
        child.Attr("langfuse.trace.name").ShouldBe("first-name");
        child.Attr("langfuse.session.id").ShouldBe("s-1");
        var rootSpan = spans.Single(s => s.Name == "first-name");
        rootSpan.Attr("langfuse.trace.name").ShouldBe("second-name");
        rootSpan.Attr("langfuse.session.id").ShouldBe("s-2");
    }

    [Fact]
    public async Task Processor_SeesEachEndedObservationWithItsTraceSnapshot_AndEachScore_InOrder()
    {
        var recorder = new RecordingProcessor();
        var capture = new LangfuseCapture();
        await using (var tracer = CreateTracer(o =>
        {
            o.Processors.Add(recorder);
            o.Capture = capture;
        }))
        {
            using (var root = tracer.StartTrace("run", userId: "u-1"))
            {
                using (var tool = tracer.StartTool("search", input: "q"))
                {
                    tool.Output = "a";
                }

                root.Trace.UserId = "u-2";
                root.ScoreTrace("quality", 0.9);
            }

            (await tracer.FlushAsync(TimeSpan.FromSeconds(10))).AllDelivered.ShouldBeTrue();
        }

        recorder.Ended.Select(static e => (e.Name, e.UserId, e.IsEnded)).ShouldBe([("search", "u-1", true), ("run", "u-2", true)]);
        recorder.Ended[0].Observation.Output.ShouldBe("a");
        recorder.Scores.Single().Name.ShouldBe("quality");
        capture.Observations.Count.ShouldBe(2, "capture comes after the user's processors and still sees what they passed on");
        _server.Spans.Count.ShouldBe(2);
    }

    [Fact]
    public async Task Processor_ReturningFalse_StopsTheItem_CountedAsSampledOut_NeitherCapturedNorSent()
    {
        var capture = new LangfuseCapture();
        LangfuseStatistics stats;
        await using (var tracer = CreateTracer(o =>
        {
            o.Processors.Add(new DropNamed("secret-step"));
            o.Capture = capture;
        }))
        {
            using (tracer.StartTrace("run"))
            {
                using (tracer.StartSpan("secret-step"))
                {
                }

                using (tracer.StartSpan("public-step"))
                {
                }
            }

            (await tracer.FlushAsync(TimeSpan.FromSeconds(10))).AllDelivered.ShouldBeTrue();
            stats = tracer.GetStatistics();
        }

        _server.Spans.Select(static s => s.Name).Order().ShouldBe(["public-step", "run"]);
        capture.Observations.Select(static o => o.Name).ShouldNotContain("secret-step");
        stats.Dropped[DropReason.SampledOut].ShouldBe(1);
    }

    [Fact]
    public async Task Processor_NeverSeesObservationsOfATraceSampledOut()
    {
        var recorder = new RecordingProcessor();
        await using (var tracer = CreateTracer(o =>
        {
            o.SampleRate = 0;
            o.Processors.Add(recorder);
        }))
        {
            using (tracer.StartTrace("run"))
            {
                using (tracer.StartSpan("step"))
                {
                }
            }

            await tracer.FlushAsync(TimeSpan.FromSeconds(10));
        }

        recorder.Ended.ShouldBeEmpty();
    }

    [Fact]
    public async Task Processor_ThatThrows_IsLoggedOnce_AndTheItemsStillArrive()
    {
        var logs = new CapturingLoggerFactory();
        var recorder = new RecordingProcessor();
        await using (var tracer = CreateTracer(o =>
        {
            o.Processors.Add(new Throwing());
            o.Processors.Add(recorder);
        }, logs))
        {
            for (var i = 0; i < 3; i++)
            {
                using (tracer.StartTrace($"run-{i}"))
                {
                }
            }

            (await tracer.FlushAsync(TimeSpan.FromSeconds(10))).AllDelivered.ShouldBeTrue();
        }

        _server.Spans.Count.ShouldBe(3);
        recorder.Ended.Count.ShouldBe(3, "the next processor still sees every item");
        logs.Lines.Count(static l => l.Contains("Throwing threw", StringComparison.Ordinal)).ShouldBe(1);
    }

    private LangfuseTracer CreateTracer(Action<LangfuseOptions>? configure = null, CapturingLoggerFactory? logs = null)
    {
        var options = new LangfuseOptions
        {
            PublicKey = _server.PublicKey,
            SecretKey = _server.SecretKey,
            BaseUrl = _server.BaseUrl,
            ServiceName = "processor-tests",
            FlushInterval = TimeSpan.FromMinutes(10), // only explicit flushes send, so the test controls batching
        };
        configure?.Invoke(options);
        return new LangfuseTracer(options, logs ?? (Microsoft.Extensions.Logging.ILoggerFactory)NullLoggerFactory.Instance);
    }

    private sealed record Seen(string Name, string? UserId, bool IsEnded, LangfuseObservation Observation);

    /// <summary>A test processor: records what it is shown, from the thread that ended the observation.</summary>
    private sealed class RecordingProcessor : LangfuseProcessor
    {
        private readonly Lock _gate = new();
        private readonly List<Seen> _ended = [];
        private readonly List<LangfuseScore> _scores = [];

        public IReadOnlyList<Seen> Ended
        {
            get
            {
                lock (_gate)
                {
                    return [.. _ended];
                }
            }
        }

        public IReadOnlyList<LangfuseScore> Scores
        {
            get
            {
                lock (_gate)
                {
                    return [.. _scores];
                }
            }
        }

        public override bool OnEnd(in CompletedObservation observation)
        {
            lock (_gate)
            {
                _ended.Add(new Seen(observation.Observation.Name, observation.Trace?.UserId, observation.Observation.IsEnded, observation.Observation));
            }

            return true;
        }

        public override bool OnScore(LangfuseScore score)
        {
            lock (_gate)
            {
                _scores.Add(score);
            }

            return true;
        }
    }

    private sealed class DropNamed(string name) : LangfuseProcessor
    {
        public override bool OnEnd(in CompletedObservation observation) => observation.Observation.Name != name;
    }

    private sealed class Throwing : LangfuseProcessor
    {
        public override bool OnEnd(in CompletedObservation observation) => throw new InvalidOperationException("processor bug");
    }
}
