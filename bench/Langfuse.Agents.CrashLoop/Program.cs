using System.Diagnostics;
using System.Globalization;
using Langfuse.Agents.CrashLoop;
using Langfuse.Agents.Relay.ProcessTests;
using Langfuse.Agents.Tests.Durable;

// dotnet run -c Release --project bench/Langfuse.Agents.CrashLoop -- [--relay N] [--sdk N] [--seed S] [--minutes M]
// (--minutes: stop the relay loop's kills after M minutes and check delivery of what was acknowledged until then)
// Runs the relay crash loop (N SIGKILLs under steady load) and the SDK write-ahead crash loop (N SIGKILLs while
// ending spans), then prints one summary line each; exits 1 if anything acknowledged was lost, a restart failed or
// duplicates exceeded what was in flight at the kills. Delivery after the last kill is given time while it makes
// progress, and what did not arrive but is still in the buffer is counted as still-on-disk (not lost), so a slow
// machine is not reported as a lossy relay.
var relayIterations = 200;
var sdkIterations = 200;
var seed = Environment.TickCount;
TimeSpan? budget = null;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    var value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--relay": relayIterations = value; break;
        case "--sdk": sdkIterations = value; break;
        case "--seed": seed = value; break;
        case "--minutes": budget = TimeSpan.FromMinutes(value); break;
        default:
            Console.Error.WriteLine("usage: [--relay N] [--sdk N] [--seed S] [--minutes M]");
            return 2;
    }
}

Console.WriteLine($"seed {seed}");
var failed = false;
if (relayIterations > 0)
{
    var buffer = Directory.CreateTempSubdirectory("langfuse-crashloop-relay-");
    var clock = Stopwatch.StartNew();
    var result = await RelayCrashLoop.RunAsync(relayIterations, seed, buffer.FullName, line => Console.WriteLine("relay " + line), budget, RelayBufferReader.Read);
    Console.WriteLine($"RELAY {result} elapsed={clock.Elapsed.TotalSeconds:F0}s");
    failed |= result.Lost > 0 || result.RestartFailures > 0 || result.Duplicates > result.InFlightAtKills;
    buffer.Delete(recursive: true);
}

if (sdkIterations > 0)
{
    var buffer = Directory.CreateTempSubdirectory("langfuse-crashloop-sdk-");
    var clock = Stopwatch.StartNew();
    var result = await SdkCrashLoop.RunAsync(sdkIterations, seed, buffer.FullName, line => Console.WriteLine("sdk " + line));
    Console.WriteLine($"SDK {result} elapsed={clock.Elapsed.TotalSeconds:F0}s");
    failed |= result.Lost > 0 || result.Duplicates > result.Iterations * result.MaxInFlightItems;
    buffer.Delete(recursive: true);
}

return failed ? 1 : 0;
