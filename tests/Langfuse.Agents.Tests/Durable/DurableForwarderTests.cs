using System.Text;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;
using static Langfuse.Agents.Tests.Durable.ForwarderPayloads;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// The forwarder against a real queue and a real HTTP fake of Langfuse: issue 9's findings 1 to 5 and 8 (forwarder
/// side). Each test failed on the forwarder before this change (see the commit that added it).
/// </summary>
public sealed class DurableForwarderTests
{
    // ---- Finding 1: a record that can never be sent must not block the ones behind it ---------------------------

    [Fact]
    public async Task Forward_WhenARecordCannotBeSent_QuarantinesIt_AndDeliversEverythingBehindIt()
    {
        await using var harness = await ForwarderHarness.StartAsync();
        // HttpClient refuses this header value (FormatException while building the request): no retry can fix it.
        var unsendable = OtlpRecord(0, 3, encoding: "not a token");
        harness.Append([[unsendable], .. Enumerable.Range(1, 20).Select(i => new[] { OtlpRecord(i * 10, 2) })]);

        (await harness.DrainAsync()).ShouldBeTrue("nothing may stay stuck behind the unsendable record" + harness.Describe());

        harness.Server.Spans.Count.ShouldBe(40);
        var rejected = harness.Rejected.ShouldHaveSingleItem();
        rejected.Record.ItemCount.ShouldBe(3);
        rejected.Reason.ShouldContain("never sendable");
        harness.Metrics.DroppedCount(DropReason.Rejected).ShouldBe(3);
        harness.Metrics.Snapshot().Exported.ShouldBe(40);
        harness.Queue.Stats.Records.ShouldBe(0);
        harness.Logs.Entries.Count(e => e.EventId.Id == 83).ShouldBe(1, "logged once");
    }

    [Theory]
    [InlineData("x application/x-protobuf")]
    [InlineData("application/x-protobuf, application/x-protobuf")]
    public async Task Forward_WhenTheContentTypeMerelyContainsProtobuf_SendsItAsLangfuseReadsIt(string contentType)
    {
        // Langfuse accepts any content type that contains application/x-protobuf; HttpClient cannot parse these.
        await using var harness = await ForwarderHarness.StartAsync();
        harness.Append([[OtlpRecord(0, 2, contentType)], .. Enumerable.Range(1, 20).Select(i => new[] { OtlpRecord(i * 10, 1) })]);

        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());

        harness.Server.Spans.Count.ShouldBe(22);
        harness.Rejected.ShouldBeEmpty();
    }

    [Fact]
    public async Task Forward_WhenAContentTypeIsNeitherProtobufNorJson_QuarantinesOnlyThatRecord()
    {
        await using var harness = await ForwarderHarness.StartAsync();
        harness.AppendSegment(OtlpRecord(0, 2, "text/plain"), OtlpRecord(10, 1));

        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());

        harness.Server.Spans.Select(s => s.Name).ShouldBe(["span-10"]);
        harness.Rejected.ShouldHaveSingleItem().Reason.ShouldContain("text/plain");
    }

    // ---- Finding 2 (+ issue 8 point 13): a 207 of any size is read, and nothing counts delivered without a success --

    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    public async Task Forward_WhenEveryEventOfABigBatchFailsWith500_NoneIsCountedForwarded_AndAllStayOnDisk(int count)
    {
        await using var harness = await ForwarderHarness.StartAsync();
        harness.Server.FailEvent(_ => true, status: 500);
        harness.AppendSegment(Scores(0, count));
        harness.Start();

        await harness.Server.WaitForRequestsAsync(2, TimeSpan.FromSeconds(30)); // tried, and tried again after its back-off

        harness.Metrics.Snapshot().Exported.ShouldBe(0);
        harness.Queue.Stats.Items.ShouldBe(count, "every event is kept for the next attempt");
        harness.Rejected.ShouldBeEmpty();
        harness.Server.Heal();
        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());
        harness.Server.IngestionEvents.Select(e => e.Id).Distinct().Count().ShouldBe(count);
        harness.Metrics.Snapshot().Exported.ShouldBe(count);
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    public async Task Forward_WhenAV4ServerRejectsEveryEventOfABigBatchWith400_AllAreDeadLettered_NoneForwarded(int count)
    {
        await using var harness = await ForwarderHarness.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V4 });
        harness.Server.FailEvent(_ => true, status: 400, message: "Score value does not match the score config");
        harness.AppendSegment(Scores(0, count));

        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());

        harness.Server.IngestionEvents.ShouldBeEmpty();
        harness.Metrics.Snapshot().Exported.ShouldBe(0);
        harness.Metrics.DroppedCount(DropReason.Rejected).ShouldBe(count);
        var rejected = harness.Rejected.ShouldHaveSingleItem("one dead-letter entry for the events that share an answer");
        rejected.Record.ItemCount.ShouldBe(count);
        rejected.Reason.ShouldContain("Score value does not match");
        CountEvents(rejected.Record).ShouldBe(count);
        harness.Queue.Stats.Records.ShouldBe(0);
    }

    [Fact]
    public async Task Forward_WhenTheAnswerFailsSomeEvents_KeepsExactlyThoseEvents_AsTheirOriginalBytes()
    {
        await using var harness = await ForwarderHarness.StartAsync();
        harness.Server.FailEvent(e => e.Name == "flaky", status: 503, times: 1_000);
        // Bytes a re-encoder would change: '<' becomes \u003C, spacing and key order are lost.
        var odd = """{ "id" : "odd-1", "type":"score-create", "timestamp":"2026-01-01T00:00:00.000Z", "body":{"id":"s-odd","name":"flaky","value":1,"traceId":"t1","comment":"a < b"} }""";
        var events = Enumerable.Range(0, 1_500).Select(n => Score(n, n % 3 == 0 ? "flaky" : "fine")).Prepend(odd).ToList();
        harness.AppendSegment(BatchRecord(events));
        harness.Start();

        await harness.Server.WaitForEventsAsync(1_000, TimeSpan.FromSeconds(30));
        await harness.Server.WaitForRequestsAsync(2, TimeSpan.FromSeconds(30));

        harness.Metrics.Snapshot().Exported.ShouldBe(1_000);
        harness.Server.Heal();
        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());
        harness.Metrics.Snapshot().Exported.ShouldBe(1_501);
        var resent = harness.Server.Requests.Where(r => r.Path == FakeLangfuseServer.IngestionPath).Last();
        resent.BodyText.ShouldContain(odd, Case.Sensitive, "the kept event is sent as it was received");
        harness.Server.IngestionEvents.Count.ShouldBe(1_501);
    }

    // ---- Finding 3: settle per record; a duplicate key cannot wedge a segment ---------------------------------

    [Fact]
    public async Task Forward_WhenAnEventHasADuplicateKey_TheOtherRecordsOfItsSegmentAreDelivered_AndNothingIsResent()
    {
        await using var harness = await ForwarderHarness.StartAsync();
        var duplicate = """{"id":"dup-1","type":"score-create","type":"score-create","timestamp":"2026-01-01T00:00:00.000Z","body":{"id":"s-dup","name":"quality","value":1,"traceId":"t1"}}""";
        harness.AppendSegment(BatchRecord([duplicate, Score(1)]), Scores(100, 70), OtlpRecord(500, 3));

        (await harness.DrainAsync()).ShouldBeTrue("the segment must not stay held" + harness.Describe());

        harness.Server.IngestionEvents.Count.ShouldBe(72);
        harness.Server.Spans.Count.ShouldBe(3);
        harness.Queue.Stats.Records.ShouldBe(0);
        var sent = harness.Server.Requests.Count;
        harness.Forwarder.Wake();
        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());
        harness.Server.Requests.Count.ShouldBe(sent, "nothing is sent again");
    }

    // ---- Finding 4: many records per upstream request ---------------------------------------------------------

    [Fact]
    public async Task Forward_ManySmallRecords_AreMergedIntoFewRequests_InOrder()
    {
        await using var harness = await ForwarderHarness.StartAsync();
        harness.Append([.. Enumerable.Range(0, 200).Select(i => new[] { OtlpRecord(i * 10, 3) })]);
        harness.Append([.. Enumerable.Range(0, 50).Select(i => new[] { Scores(i * 10, 4) })]);

        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());

        harness.Server.Spans.Select(s => s.Name).ShouldBe(Enumerable.Range(0, 200).SelectMany(i => Enumerable.Range(i * 10, 3)).Select(n => "span-" + n));
        harness.Server.IngestionEvents.Select(e => e.Id).ShouldBe(Enumerable.Range(0, 50).SelectMany(i => Enumerable.Range(i * 10, 4)).Select(n => "e" + n));
        harness.Server.Requests.Count.ShouldBeLessThanOrEqualTo(4, "one request per kind and round, not one per record");
        harness.Metrics.Snapshot().Exported.ShouldBe(800);
    }

    [Fact]
    public async Task Forward_WhenOneRecordSpoilsAMergedRequest_OnlyThatRecordIsDeadLettered()
    {
        await using var harness = await ForwarderHarness.StartAsync();
        var spoiled = new DurableRecord(PayloadKind.OtlpTraces, 1, Created, new byte[] { 0x0A, 0x04, 0x12, 0x02, 0x12, 0x00 }, "application/x-protobuf"); // a resource span with a scope span holding an empty span: no ids
        harness.Append([.. Enumerable.Range(0, 9).Select(i => new[] { OtlpRecord(i * 10, 2) }), [spoiled], .. Enumerable.Range(10, 9).Select(i => new[] { OtlpRecord(i * 10, 2) })]);

        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());

        harness.Server.Spans.Count.ShouldBe(36);
        var rejected = harness.Rejected.ShouldHaveSingleItem();
        rejected.Record.Payload.ToArray().ShouldBe(spoiled.Payload.ToArray());
        rejected.Reason.ShouldStartWith("HTTP 400");
    }

    // ---- Finding 5: split on 413 -------------------------------------------------------------------------------

    [Fact]
    public async Task Forward_WhenLangfuseAnswers413_SplitsARecordBySpans_UntilThePartsFit()
    {
        // Each span carries 1 KiB; Langfuse takes at most 3.5 KiB per request.
        await using var harness = await ForwarderHarness.StartAsync(new FakeLangfuseOptions { MaxOtlpBodyBytes = 3_584 });
        harness.AppendSegment(OtlpRecord(0, 10, attributeBytes: 1_024));

        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());

        harness.Server.Spans.Select(s => s.Name).Order().ShouldBe(Enumerable.Range(0, 10).Select(n => "span-" + n).Order());
        harness.Server.Spans.ShouldAllBe(s => s.ResourceAttributes["service.name"]!.Equals("forwarder-tests"));
        harness.Rejected.ShouldBeEmpty();
        harness.Metrics.Snapshot().Exported.ShouldBe(10);
    }

    [Fact]
    public async Task Forward_WhenASingleSpanIsStillTooLarge_DeadLettersOnlyIt_AsTooLarge()
    {
        await using var harness = await ForwarderHarness.StartAsync(new FakeLangfuseOptions { MaxOtlpBodyBytes = 4_096 });
        var record = new DurableRecord(PayloadKind.OtlpTraces, 3, Created, Otlp(0, 1).Concat(Otlp(1, 1, attributeBytes: 8_000)).Concat(Otlp(2, 1)).ToArray(), "application/x-protobuf");
        harness.AppendSegment(record);

        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());

        harness.Server.Spans.Select(s => s.Name).Order().ShouldBe(["span-0", "span-2"]);
        harness.Rejected.ShouldHaveSingleItem().Reason.ShouldContain("413");
        harness.Metrics.DroppedCount(DropReason.TooLarge).ShouldBe(1);
        harness.Metrics.Snapshot().Exported.ShouldBe(2);
    }

    [Fact]
    public async Task Forward_WhenTheBatchEndpointAnswers413_SplitsTheBatchByEvents()
    {
        await using var harness = await ForwarderHarness.StartAsync(new FakeLangfuseOptions { MaxIngestionBodyBytes = 20_000 });
        harness.AppendSegment(Scores(0, 400)); // ~70 KB

        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());

        harness.Server.IngestionEvents.Select(e => e.Id).Order().ShouldBe(Enumerable.Range(0, 400).Select(n => "e" + n).Order());
        harness.Metrics.Snapshot().Exported.ShouldBe(400);
        harness.Rejected.ShouldBeEmpty();
    }

    // ---- Finding 8: one line per minute, not one per segment ---------------------------------------------------

    [Fact]
    public async Task Forward_LogsOneSummaryLinePerMinute_AndEachRoundOnlyAtDebug()
    {
        var time = new FakeTimeProvider(Created);
        await using var harness = await ForwarderHarness.StartAsync(time: time);
        for (var i = 0; i < 10; i++)
        {
            harness.AppendSegment(OtlpRecord(i * 10, 2));
            (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());
        }

        harness.Logs.Entries.Where(e => e.Level >= LogLevel.Information).ShouldBeEmpty();
        harness.Logs.Entries.Count(e => e.EventId.Id == 32 && e.Level == LogLevel.Debug).ShouldBe(10);

        time.Advance(TimeSpan.FromMinutes(1));
        harness.AppendSegment(OtlpRecord(1_000, 2));
        (await harness.DrainAsync()).ShouldBeTrue(harness.Describe());

        var summary = harness.Logs.Entries.Where(e => e.Level >= LogLevel.Information).ShouldHaveSingleItem();
        summary.EventId.Id.ShouldBe(81);
        summary.Message.ShouldContain("22 items forwarded");
    }

    private static int CountEvents(DurableRecord record)
    {
        using var document = System.Text.Json.JsonDocument.Parse(record.Payload);
        return document.RootElement.GetProperty("batch").GetArrayLength();
    }
}
