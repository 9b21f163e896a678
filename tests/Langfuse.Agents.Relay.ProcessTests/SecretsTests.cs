using System.Net.Http.Headers;
using System.Text;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>Must-hold 9: keys never appear in logs, status, dead letters or buffer file names.</summary>
public sealed class SecretsTests
{
    [Fact]
    public async Task Keys_NeverAppearInLogsStatusDeadLettersOrFileNames()
    {
        await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
        using var buffer = new TempDirectory();
        var config = new RelayConfig(upstream, buffer.Path)
        {
            Extra = new Dictionary<string, string>(new RelayConfig(upstream, buffer.Path).Extra) { ["LANGFUSE_DEBUG"] = "true" },
        };
        await using var relay = await RelayProcess.StartAsync(config);
        using var client = relay.CreateClient();

        // Accepted, then rejected for good by Langfuse: the bodies go to the dead-letter file.
        upstream.FailAll(400);
        var rejected = new[] { Payload.OtlpProtobuf(2), Payload.Batch(2), Payload.OtlpJson(1) };
        foreach (var payload in rejected)
        {
            using var request = payload.ToRequest();
            using var response = await client.SendAsync(request);
            ((int)response.StatusCode).ShouldBeOneOf(200, 207);
        }

        // Wrong keys, including a secret that looks like a real one and the upstream's own secret as a client key.
        var attempted = "sk-lf-attempted-secret";
        foreach (var (publicKey, secretKey) in new[] { (RelayConfig.ClientPublicKey, attempted), (upstream.PublicKey, upstream.SecretKey) })
        {
            using var wrong = relay.CreateClient(publicKey, secretKey);
            using var response = await wrong.SendAsync(Payload.OtlpProtobuf(1).ToRequest());
            ((int)response.StatusCode).ShouldBe(401);
        }

        using (var garbage = new HttpClient { BaseAddress = relay.BaseUrl })
        {
            garbage.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(attempted)));
            using var response = await garbage.GetAsync("relay/status");
            response.IsSuccessStatusCode.ShouldBeTrue();
        }

        var deadLetter = Path.Combine(buffer.Path, "dead-letter.jsonl");
        await WaitForAsync(() => File.Exists(deadLetter) && File.ReadAllLines(deadLetter).Length >= rejected.Length, relay);
        var status = await client.GetStringAsync("relay/status");
        upstream.Heal();

        var secrets = new[] { RelayConfig.ClientSecretKey, upstream.SecretKey, attempted };
        var everything = new Dictionary<string, string>
        {
            ["log"] = relay.Output,
            ["status"] = status,
            ["dead letters"] = string.Concat(Directory.GetFiles(buffer.Path, "dead-letter*").Select(File.ReadAllText)),
            ["file names"] = string.Join("\n", Directory.GetFileSystemEntries(buffer.Path, "*", SearchOption.AllDirectories)),
        };
        foreach (var (where, text) in everything)
        {
            foreach (var secret in secrets)
            {
                text.ShouldNotContain(secret, Case.Sensitive, $"a key in the {where}");
                text.ShouldNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), Case.Sensitive, $"an encoded key in the {where}");
            }

            text.ShouldNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RelayConfig.ClientPublicKey}:{RelayConfig.ClientSecretKey}")), Case.Sensitive, where);
        }

        everything["file names"].ShouldNotContain(RelayConfig.ClientPublicKey);
        everything["file names"].ShouldNotContain(upstream.PublicKey);
    }

    private static async Task WaitForAsync(Func<bool> condition, RelayProcess relay)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            guard.IsCancellationRequested.ShouldBeFalse("dead letters not written in 30 s:\n" + relay.Output);
            await Task.Delay(50); // polling a file another process writes; there is no signal to wait on
        }
    }
}
