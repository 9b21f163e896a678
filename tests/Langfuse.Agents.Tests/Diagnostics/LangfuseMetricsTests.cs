using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Langfuse.Agents.Internal.Diagnostics;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Diagnostics;

public sealed class LangfuseMetricsTests
{
    [Fact]
    public void Counters_ArePublishedOnTheLangfuseAgentsMeter_AndReadableInCode()
    {
        using var metrics = new LangfuseMetrics();
        var measurements = new ConcurrentBag<(string Instrument, long Value, string? Reason)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LangfuseMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "reason")
                {
                    reason = tag.Value as string;
                }
            }

            measurements.Add((instrument.Name, value, reason));
        });
        listener.Start();
        metrics.SetQueueDepthSource(() => 7);

        metrics.Started();
        metrics.Exported(3);
        metrics.Dropped(DropReason.QueueFull);
        metrics.Dropped(DropReason.Rejected, 2);
        metrics.Retried();
        metrics.RequestSent();
        listener.RecordObservableInstruments();

        measurements.ShouldContain(("langfuse.agents.observations.started", 1L, (string?)null));
        measurements.ShouldContain(("langfuse.agents.items.exported", 3L, (string?)null));
        measurements.ShouldContain(("langfuse.agents.items.dropped", 1L, "queue_full"));
        measurements.ShouldContain(("langfuse.agents.items.dropped", 2L, "rejected"));
        measurements.ShouldContain(("langfuse.agents.export.retries", 1L, (string?)null));
        measurements.ShouldContain(("langfuse.agents.queue.depth", 7L, (string?)null));

        var stats = metrics.Snapshot();
        stats.Started.ShouldBe(1);
        stats.Exported.ShouldBe(3);
        stats.Dropped[DropReason.QueueFull].ShouldBe(1);
        stats.Dropped[DropReason.Rejected].ShouldBe(2);
        stats.Dropped[DropReason.Shutdown].ShouldBe(0);
        stats.DroppedTotal.ShouldBe(3);
        stats.Retries.ShouldBe(1);
        stats.Requests.ShouldBe(1);
        stats.QueueDepth.ShouldBe(7);
    }

    [Fact]
    public void EveryDropReason_HasASnakeCaseTagName()
    {
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            LangfuseMetrics.ReasonName(reason).ShouldMatch("^[a-z_]+$");
        }
    }
}
