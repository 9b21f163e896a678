using Microsoft.Extensions.Options;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// <c>langfuse-relay</c>: reads the configuration, starts the relay, prints <c>relay listening on {url}</c> on stdout
/// once it accepts requests (the one line a parent process waits for), and runs until SIGTERM or Ctrl+C.
/// Exit codes: 0 after a clean stop, 2 for invalid configuration (every problem listed), 3 when the buffer directory is unusable or held by
/// another relay, 4 when the address cannot be bound.
/// </summary>
internal static class RelayProgram
{
    public static async Task<int> RunAsync(string[] args, Func<string, string?> getVariable, TextWriter stdout, TextWriter stderr)
    {
        if (args.Any(static a => a is "-h" or "--help"))
        {
            await stdout.WriteLineAsync(Usage);
            return 0;
        }

        RelayHost host;
        try
        {
            host = await RelayHost.StartAsync(args, getVariable);
        }
        catch (OptionsValidationException ex)
        {
            // Every problem at once, each naming its variable or key; never a key's value.
            await stderr.WriteLineAsync("langfuse-relay: invalid configuration: " + string.Join(" ", ex.Failures));
            return 2;
        }
        catch (RelayStartException ex)
        {
            await stderr.WriteLineAsync("langfuse-relay: cannot start: " + ex.Message);
            return 3;
        }
        catch (IOException ex)
        {
            await stderr.WriteLineAsync("langfuse-relay: cannot listen: " + ex.Message);
            return 4;
        }

        await using (host)
        {
            // What is really bound (http://[::]:8080 under ASPNETCORE_HTTP_PORTS), not a friendlier name for it.
            await stdout.WriteLineAsync($"relay listening on {host.ListeningOn}");
            await stdout.FlushAsync();
            await host.WaitForShutdownAsync();
        }

        return 0;
    }

    private const string Usage = """
        langfuse-relay: a local buffering Langfuse endpoint.

        Point any Langfuse SDK's base URL at it; it stores what it acknowledges on disk (fsync) and forwards it to Langfuse.

          --urls http://127.0.0.1:3100     where to listen (also ASPNETCORE_URLS); default http://127.0.0.1:3100

        Environment:
          LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY   the upstream Langfuse and its keys (required)
          LANGFUSE_RELAY_PUBLIC_KEY, LANGFUSE_RELAY_SECRET_KEY         the keys clients must present (default: the upstream's)
          LANGFUSE_BUFFER_DIR                                          the buffer directory (default: {state dir}/langfuse-agents/relay)
          LANGFUSE_BUFFER_MAX_BYTES, LANGFUSE_BUFFER_RETENTION         cap (default 1 GiB) and retention (default 48 h)
          LANGFUSE_RELAY_FSYNC                                         fsync before acknowledging (default true)
          LANGFUSE_RELAY_MAX_PENDING_REQUESTS                          requests waiting for the disk before 503 (default 8192)

        Every setting can also be given in the Relay section of appsettings.json, as Relay__Name in the environment, or
        as --Relay:Name=value (e.g. --Relay:BufferMaxBytes=1073741824, --Relay:Upstream:BaseUrl=https://cloud.langfuse.com);
        the command line wins over the environment, which wins over appsettings.json.
        """;
}
