using System.Reflection;
using SharpFuzz;

namespace Langfuse.Agents.Fuzz;

/// <summary>
/// <c>dotnet Langfuse.Agents.Fuzz.dll &lt;target&gt;</c> runs one target under SharpFuzz (AFL's out-of-process
/// protocol); <c>--libfuzzer</c> uses libFuzzer's; <c>--once &lt;file&gt;</c> runs one input (to replay a crash);
/// <c>--list</c> names the targets. Targets are every <see cref="IFuzzTarget"/> in this assembly.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var targets = typeof(Program).Assembly.GetTypes()
            .Where(static t => typeof(IFuzzTarget).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
            .Select(static t => (IFuzzTarget)Activator.CreateInstance(t)!)
            .ToDictionary(static t => t.Name, StringComparer.Ordinal);
        switch (args)
        {
            case ["--list"]:
                foreach (var name in targets.Keys.Order(StringComparer.Ordinal))
                {
                    Console.WriteLine(name);
                }

                return 0;
            case [var name, "--once", var file] when targets.TryGetValue(name, out var target):
                target.Run(File.ReadAllBytes(file));
                Console.WriteLine($"{name}: {file} passed");
                return 0;
            case [var name, "--libfuzzer"] when targets.TryGetValue(name, out var target):
                Fuzzer.LibFuzzer.Run(span => target.Run(span));
                return 0;
            case [var name] when targets.TryGetValue(name, out var target):
                Fuzzer.OutOfProcess.Run(stream =>
                {
                    using var copy = new MemoryStream();
                    stream.CopyTo(copy);
                    target.Run(copy.ToArray());
                });
                return 0;
            default:
                Console.Error.WriteLine($"usage: Langfuse.Agents.Fuzz <{string.Join("|", targets.Keys)}> [--libfuzzer | --once <file>] | --list");
                return 2;
        }
    }
}
