using System.Diagnostics;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>
/// Must-hold 7, ingress: a real full disk, a 2 MiB tmpfs the test mounts (as root) under the relay's buffer directory
/// and unmounts after. Where mounting is impossible (not root, no tmpfs) the test says so in its output and stops;
/// CI runs as root, so there it runs.
/// </summary>
public sealed class FullDiskTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RealFullDisk_Gives503WithRetryAfter_LosesNothingAcknowledged_AndResumesWhenSpaceReturns()
    {
        using var mount = new TempDirectory();
        if (!TryMountTmpfs(mount.Path, "2m", out var why))
        {
            output.WriteLine("SKIPPED: cannot mount a tmpfs here: " + why);
            return;
        }

        try
        {
            await using var upstream = await FakeLangfuseServer.StartAsync(new FakeLangfuseOptions { Version = FakeLangfuseVersion.V3 });
            upstream.FailAll(503); // nothing leaves the disk until the test lets it
            var directory = Path.Combine(mount.Path, "relay");
            await using var relay = await RelayProcess.StartAsync(new RelayConfig(upstream, directory));
            using var client = relay.CreateClient();

            var acknowledged = new List<Payload>();
            HttpResponseMessage? refusal = null;
            for (var i = 0; i < 1000 && refusal is null; i++)
            {
                var payload = Payload.OtlpProtobuf(40); // ~10 KB each
                using var request = payload.ToRequest();
                var response = await client.SendAsync(request);
                if ((int)response.StatusCode == 200)
                {
                    acknowledged.Add(payload);
                    response.Dispose();
                }
                else
                {
                    refusal = response;
                }
            }

            refusal.ShouldNotBeNull("the 2 MiB disk never filled up");
            using (refusal)
            {
                ((int)refusal.StatusCode).ShouldBe(503, relay.Output);
                refusal.Headers.RetryAfter.ShouldNotBeNull();
                refusal.Headers.RetryAfter!.Delta.ShouldNotBeNull();
            }

            output.WriteLine($"{acknowledged.Count} requests acknowledged before the disk was full");
            acknowledged.Count.ShouldBeGreaterThan(10);

            // Space returns as the backlog is forwarded; ingestion resumes by itself, without a restart.
            upstream.Heal();
            var resumed = Payload.OtlpProtobuf(40);
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (true)
            {
                using var request = resumed.ToRequest();
                using var response = await client.SendAsync(request);
                if ((int)response.StatusCode == 200)
                {
                    break;
                }

                ((int)response.StatusCode).ShouldBe(503, relay.Output);
                guard.IsCancellationRequested.ShouldBeFalse("ingestion did not resume within 60 s:\n" + relay.Output);
                await Task.Delay(TimeSpan.FromSeconds(response.Headers.RetryAfter?.Delta?.TotalSeconds is > 0 and < 1 ? 0.5 : 0.2)); // a client honouring Retry-After, faster
            }

            acknowledged.Add(resumed);
            await Delivery.WaitForAllAsync(upstream, acknowledged.SelectMany(p => p.SpanIds), [], TimeSpan.FromSeconds(60), () => relay.Output);
            relay.HasExited.ShouldBeFalse(relay.Output);
        }
        finally
        {
            Unmount(mount.Path);
        }
    }

    private static bool TryMountTmpfs(string path, string size, out string why)
    {
        if (!OperatingSystem.IsLinux())
        {
            why = "not Linux";
            return false;
        }

        if (Environment.UserName != "root")
        {
            why = $"mounting needs root (running as {Environment.UserName})";
            return false;
        }

        var (code, text) = Run("mount", "-t", "tmpfs", "-o", $"size={size},mode=0700", "tmpfs", path);
        why = text;
        return code == 0;
    }

    private static void Unmount(string path) => Run("umount", "-l", path);

    private static (int Code, string Output) Run(string file, params string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            var text = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, text.Trim());
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }
}
