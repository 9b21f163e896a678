using System.Net.Sockets;
using System.Text;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

/// <summary>Finding 8: a chunked body that never ends held its connection with no total time limit.</summary>
public sealed class BodyTimeLimitTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ChunkedBodyThatKeepsTrickling_Gets408AtTheTotalLimit_AndTheConnectionIsClosed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await RelayTestHost.StartAsync(
            new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 },
            configure: o => o with { BodyTimeout = Limit },
            timeProvider: clock);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, host.Relay.BaseUrl.Port);
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RelayTestHost.ClientPublicKey}:{RelayTestHost.ClientSecretKey}"));
        await SendAsync(socket, $"POST /api/public/ingestion HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        await SendAsync(socket, "1\r\n{\r\n");
        await RelayIngressTests.WaitAsync(() => host.Relay.Bodies.ReadsInProgress == 1); // the body's deadline is set

        // Every chunk arrives well within any per-read timeout; only the total is over the limit.
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(Limit / 6);
            await SendAsync(socket, "1\r\n \r\n");
        }

        clock.Advance(Limit / 6);

        // The relay answers 408 and closes; a close with chunks still unread is a reset, which may overtake the answer.
        var answer = await ReadUntilClosedAsync(socket);
        if (answer.Length > 0)
        {
            answer.ShouldStartWith("HTTP/1.1 408");
        }

        host.Relay.Metrics.Requests.ShouldBe(0);
        host.Relay.Metrics.RejectionCounts()["body_timeout"].ShouldBe(1);
    }

    private static Task<int> SendAsync(Socket socket, string text) => socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

    /// <summary>Reads until the relay closes the connection, by FIN or reset (a 30 s guard fails the test instead of hanging it).</summary>
    private static async Task<string> ReadUntilClosedAsync(Socket socket)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, guard.Token)) > 0)
            {
                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Closed with data unread: the reset is the close.
        }

        return received.ToString();
    }
}
