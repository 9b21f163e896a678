using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>Bad and hostile requests against a running relay process: each is refused as Langfuse would, nothing accepted is lost.</summary>
public sealed class HostileInputTests
{
    [Fact]
    public async Task BadRequests_AreRefusedLangfuseStyle_AndNothingAcceptedIsLost()
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        upstream.FailAll(503); // everything accepted sits on disk while the bad requests come
        using var buffer = new TempDirectory();
        await using var relay = await RelayProcess.StartAsync(new RelayConfig(upstream, buffer.Path));
        using var client = relay.CreateClient();

        var accepted = new List<Payload> { Payload.OtlpProtobuf(3), Payload.Batch(3) };
        foreach (var payload in accepted)
        {
            using var request = payload.ToRequest();
            using var response = await client.SendAsync(request);
            ((int)response.StatusCode).ShouldBeOneOf(200, 207);
        }

        // Wrong credentials: a wrong secret, the upstream's keys (the relay's clients have their own), none at all.
        foreach (var (publicKey, secretKey) in new[] { (RelayConfig.ClientPublicKey, "sk-lf-wrong"), ("pk-lf-wrong", RelayConfig.ClientSecretKey), (upstream.PublicKey, upstream.SecretKey) })
        {
            using var wrong = relay.CreateClient(publicKey, secretKey);
            foreach (var payload in new[] { Payload.OtlpProtobuf(2), Payload.Batch(2) })
            {
                await ExpectAsync(wrong, payload.ToRequest(), 401, relay);
            }
        }

        using (var anonymous = relay.CreateClient())
        {
            anonymous.DefaultRequestHeaders.Authorization = null;
            await ExpectAsync(anonymous, Payload.Batch(1).ToRequest(), 401, relay);
            anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", "not base64!");
            await ExpectAsync(anonymous, Payload.OtlpJson(1).ToRequest(), 401, relay);
        }

        // Malformed JSON, on both endpoints; a batch that is JSON but not {"batch": [...]}.
        await ExpectAsync(client, Raw(FakeLangfuseServer.IngestionPath, "{\"batch\": [{\"id\": ", "application/json"), 400, relay);
        await ExpectAsync(client, Raw(FakeLangfuseServer.IngestionPath, "[1, 2, 3]", "application/json"), 400, relay);
        await ExpectAsync(client, Raw(FakeLangfuseServer.OtlpPath, "{\"resourceSpans\": [ {", "application/json"), 400, relay);

        // Garbage protobuf (an over-long varint, then an invalid wire type), garbage claiming to be gzip.
        await ExpectAsync(client, Raw(FakeLangfuseServer.OtlpPath, [.. Enumerable.Repeat((byte)0xFF, 16), 0x0F, 0x01], "application/x-protobuf"), 400, relay);
        var notGzip = Raw(FakeLangfuseServer.OtlpPath, Payload.OtlpProtobuf(1).Body, "application/x-protobuf");
        notGzip.Content!.Headers.ContentEncoding.Add("gzip");
        await ExpectAsync(client, notGzip, 400, relay);

        // Too large: a 5 MB batch (Langfuse's limit is 4.5 MB), valid JSON all the same.
        var big = "{\"batch\":[{\"id\":\"big\",\"type\":\"sdk-log\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"body\":{\"log\":\"" +
                  new string('x', 5 * 1024 * 1024) + "\"}}]}";
        await ExpectAsync(client, Raw(FakeLangfuseServer.IngestionPath, big, "application/json"), 413, relay);

        // A batch with one invalid event: reported per event in the 207, never forwarded; the valid one is kept.
        var mixed = Payload.Batch(1);
        var mixedJson = JsonDocument.Parse(mixed.Body).RootElement;
        var validEvent = mixedJson.GetProperty("batch")[0].GetRawText();
        var mixedBody = $"{{\"batch\":[{validEvent},{{\"id\":\"invalid-event\",\"type\":\"span-create\",\"timestamp\":\"yesterday\",\"body\":{{}}}}]}}";
        using (var response = await client.SendAsync(Raw(FakeLangfuseServer.IngestionPath, mixedBody, "application/json")))
        {
            var text = await response.Content.ReadAsStringAsync();
            ((int)response.StatusCode).ShouldBe(207, text);
            using var result = JsonDocument.Parse(text);
            result.RootElement.GetProperty("successes").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ShouldBe([mixed.EventIds[0]], text);
            result.RootElement.GetProperty("errors").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ShouldBe(["invalid-event"], text);
        }

        accepted.Add(mixed);
        using (var health = await client.GetAsync("api/public/health"))
        {
            health.IsSuccessStatusCode.ShouldBeTrue(relay.Output);
        }

        upstream.Heal();
        await Delivery.WaitForAllAsync(upstream, accepted.SelectMany(p => p.SpanIds), accepted.SelectMany(p => p.EventIds), TimeSpan.FromSeconds(30), () => relay.Output);
        upstream.IngestionEvents.ShouldNotContain(e => e.Id == "invalid-event" || e.Id == "big");
        relay.Output.ShouldNotContain(RelayConfig.ClientSecretKey);
        relay.Output.ShouldNotContain(upstream.SecretKey);
    }

    /// <summary>
    /// Slow and stalled clients (headers sent then the body stalls, headers never finished, a body trickled a byte at a
    /// time) hold connections open; meanwhile other clients are answered promptly.
    /// </summary>
    [Fact]
    public async Task SlowAndStalledClients_DoNotBlockOtherClients()
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        using var buffer = new TempDirectory();
        await using var relay = await RelayProcess.StartAsync(new RelayConfig(upstream, buffer.Path));
        var auth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RelayConfig.ClientPublicKey}:{RelayConfig.ClientSecretKey}"));

        var sockets = new List<Socket>();
        using var stopTrickle = new CancellationTokenSource();
        Task trickle = Task.CompletedTask;
        try
        {
            for (var i = 0; i < 20; i++)
            {
                // Headers complete, the body promised but stalled after its first bytes.
                sockets.Add(await ConnectAsync(relay.Port,
                    $"POST {FakeLangfuseServer.IngestionPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"batch\":["));
                // Headers never finished.
                sockets.Add(await ConnectAsync(relay.Port, $"POST {FakeLangfuseServer.OtlpPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "));
            }

            var trickler = await ConnectAsync(relay.Port,
                $"POST {FakeLangfuseServer.OtlpPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nContent-Type: application/x-protobuf\r\nContent-Length: 5000\r\n\r\n");
            sockets.Add(trickler);
            trickle = Task.Run(async () =>
            {
                try
                {
                    while (!stopTrickle.IsCancellationRequested)
                    {
                        await trickler.SendAsync(new byte[] { 0x0A }, SocketFlags.None, stopTrickle.Token);
                        await Task.Delay(50, stopTrickle.Token);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException)
                {
                    // Stopped by the test, or the relay closed the trickler: either is fine.
                }
            });

            using var client = relay.CreateClient();
            var payloads = Enumerable.Range(0, 40).Select(i => Payload.Create((PayloadKind)(i % 4), 5)).ToList();
            var clock = Stopwatch.StartNew();
            var answers = await Task.WhenAll(payloads.Select(async payload =>
            {
                var started = clock.Elapsed;
                using var request = payload.ToRequest();
                using var response = await client.SendAsync(request);
                return (Status: (int)response.StatusCode, Took: clock.Elapsed - started);
            }));

            answers.ShouldAllBe(a => a.Status == 200 || a.Status == 207);
            var slowest = answers.Max(a => a.Took);
            slowest.ShouldBeLessThan(TimeSpan.FromSeconds(5), $"the slowest of 40 requests beside 41 slow clients took {slowest}");
            await Delivery.WaitForAllAsync(upstream, payloads.SelectMany(p => p.SpanIds), payloads.SelectMany(p => p.EventIds), TimeSpan.FromSeconds(30), () => relay.Output);
        }
        finally
        {
            await stopTrickle.CancelAsync();
            await trickle;
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        relay.HasExited.ShouldBeFalse(relay.Output);
    }

    private static async Task<Socket> ConnectAsync(int port, string head)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None);
        return socket;
    }

    private static HttpRequestMessage Raw(string path, string body, string contentType) => Raw(path, Encoding.UTF8.GetBytes(body), contentType);

    private static HttpRequestMessage Raw(string path, byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/')) { Content = content };
    }

    /// <summary>Sends and expects <paramref name="status"/> with a Langfuse-shaped body (JSON with a message; 413 may be plain text as Langfuse's is).</summary>
    private static async Task ExpectAsync(HttpClient client, HttpRequestMessage request, int status, RelayProcess relay)
    {
        using (request)
        {
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            ((int)response.StatusCode).ShouldBe(status, $"{request.Method} {request.RequestUri} ({request.Content?.Headers.ContentType}): {text}\n{relay.Output}");
            if (status != 413)
            {
                using var json = JsonDocument.Parse(text);
                json.RootElement.TryGetProperty("message", out _).ShouldBeTrue($"a Langfuse error body has a message: {text}");
            }
        }
    }
}
