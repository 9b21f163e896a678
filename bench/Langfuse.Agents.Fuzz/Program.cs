using Langfuse.Agents.Fuzz;

// SharpFuzz harness for the parsers that meet untrusted bytes (the README's Relay section says how to run it). One target per run:
//   Langfuse.Agents.Fuzz <target> --afl          under afl-fuzz (inputs on stdin, SharpFuzz's out-of-process protocol)
//   Langfuse.Agents.Fuzz <target> --libfuzzer    under libfuzzer-dotnet
//   Langfuse.Agents.Fuzz <target> <file>...      replay inputs (a crash, a corpus) and report each
// Each target's file registers it in FuzzTargets, so more can be added without touching this one.
if (args.Length < 2 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine("usage: Langfuse.Agents.Fuzz <target> [input files]; targets: " + string.Join(", ", FuzzTargets.All.Keys.Order()));
    return 2;
}

if (args.Length > 1 && args[1] == "--afl")
{
    SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
    {
        using var input = new MemoryStream();
        stream.CopyTo(input);
        target(input.ToArray());
    });
    return 0;
}

if (args.Length > 1 && args[1] == "--libfuzzer")
{
    SharpFuzz.Fuzzer.LibFuzzer.Run(span => target(span));
    return 0;
}

if (args.Length > 1)
{
    foreach (var file in args.Skip(1))
    {
        target(File.ReadAllBytes(file));
        Console.WriteLine($"{file}: ok");
    }

    return 0;
}

Console.Error.WriteLine("give --afl, --libfuzzer, or input files to replay");
return 2;
