using System.Net;
using System.Text.Json;
using Langfuse.Agents.Internal.Durable;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>What the relay gives up is counted and shown; the files it owns are never followed out of its directory.</summary>
public sealed class RelayFilesAndDropsTests
{
    /// <summary>Finding 6: corrupt records were skipped with <c>dropped.corrupt</c> still 0.</summary>
    [Fact]
    public async Task CorruptRecordOnDisk_IsCountedInStatusDropped_AndTheRestIsForwarded()
    {
        var directory = Path.Combine(Path.GetTempPath(), "langfuse-relay-tests", Guid.NewGuid().ToString("N"));
        var good = new DurableRecord(PayloadKind.OtlpTraces, 2, DateTimeOffset.UtcNow, Requests.OtlpProtobuf(1, 2), "application/x-protobuf");
        var damaged = new DurableRecord(PayloadKind.OtlpTraces, 3, DateTimeOffset.UtcNow, Requests.OtlpProtobuf(20, 3), "application/x-protobuf");
        using (var queue = new DurableQueue(new DurableQueueOptions { Directory = directory }))
        {
            queue.Append([good, damaged]).ShouldBe(AppendOutcome.Stored);
        }

        var segment = Directory.GetFiles(directory, "*.lfq").Single();
        var bytes = File.ReadAllBytes(segment);
        bytes[^6] ^= 0xFF; // inside the last record's payload: its checksum no longer matches
        File.WriteAllBytes(segment, bytes);

        var log = new ListLogger();
        await using var host = await RelayTestHost.StartAsync(
            new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 },
            directory: directory,
            logging: l => l.AddProvider(log));
        await host.Upstream.WaitForSpansAsync(2);
        await RelayIngressTests.WaitAsync(() => host.Relay.ForwarderMetrics.DroppedCount(DropReason.Corrupt) == 3);
        log.Lines.ShouldContain(l => l.Contains("gave up 3 acknowledged items (corrupt)", StringComparison.Ordinal));

        using var status = JsonDocument.Parse(await host.Client.GetStringAsync("/relay/status"));
        status.RootElement.GetProperty("dropped").GetProperty("corrupt").GetInt64().ShouldBe(3);
        host.Upstream.Spans.Count.ShouldBe(2);
    }

    /// <summary>Finding 7: a link planted as <c>dead-letter.jsonl</c> was followed outside the directory.</summary>
    [Fact]
    public async Task DeadLetterFileThatIsASymlink_IsNotFollowed_AndTheFailureIsCounted()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // symbolic links need privileges there; the relay's link check is the same code path
        }

        var directory = Path.Combine(Path.GetTempPath(), "langfuse-relay-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var outside = Path.Combine(Path.GetTempPath(), "langfuse-relay-tests", "outside-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(outside, "");
        File.CreateSymbolicLink(Path.Combine(directory, "dead-letter.jsonl"), outside);
        try
        {
            await using var host = await RelayTestHost.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 }, directory: directory);
            host.Upstream.FailAll(400); // every request is rejected for good, so it goes to the dead-letter file

            using (var response = await host.Client.PostAsync("/api/public/otel/v1/traces", Requests.Content(Requests.OtlpProtobuf(1), "application/x-protobuf")))
            {
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
            }

            // Done when the entry was written through the link or refused.
            await RelayIngressTests.WaitAsync(() => new FileInfo(outside).Length > 0 || WriteFailures(host.Client) == 1);
            File.ReadAllText(outside).ShouldBeEmpty();
            WriteFailures(host.Client).ShouldBe(1);
            new FileInfo(Path.Combine(directory, "dead-letter.jsonl")).LinkTarget.ShouldBe(outside);
        }
        finally
        {
            File.Delete(outside);
        }
    }

    private static long WriteFailures(HttpClient client)
    {
        using var status = JsonDocument.Parse(client.GetStringAsync("/relay/status").GetAwaiter().GetResult());
        return status.RootElement.GetProperty("deadLetter").TryGetProperty("writeFailures", out var failures) ? failures.GetInt64() : 0;
    }
}
