using System.Text.RegularExpressions;

namespace Langfuse.Agents.Generators.Tests.Readme;

/// <summary>How a README code block is compiled, from the HTML comment on the line before its fence.</summary>
public enum ReadmeBlockKind
{
    /// <summary>No marker: the whole Program.cs of a new console app that references Langfuse.Agents.</summary>
    ConsoleProgram,

    /// <summary><c>&lt;!-- readme-check: web --&gt;</c>: the whole Program.cs of a new ASP.NET Core app with both packages.</summary>
    WebProgram,

    /// <summary><c>&lt;!-- readme-check: fragment NAME --&gt;</c>: compiled inside the prelude Readme/Preludes/NAME.cs.txt.</summary>
    Fragment,
}

/// <summary>One <c>```csharp</c> block of README.md: where it is, its text, and how it is compiled.</summary>
public sealed partial record ReadmeBlock(int FenceLine, string Code, ReadmeBlockKind Kind, string? Prelude)
{
    /// <summary>The marker syntax, for failure messages.</summary>
    public const string MarkerHelp =
        "Mark the block on the line before its fence: nothing for a complete console Program.cs, "
        + "<!-- readme-check: web --> for a complete ASP.NET Core Program.cs, or <!-- readme-check: fragment NAME --> "
        + "to compile it inside tests/Langfuse.Agents.Generators.Tests/Readme/Preludes/NAME.cs.txt (at /*README*/).";

    /// <summary>The first line of the code (1-based line number in README.md).</summary>
    public int FirstCodeLine => FenceLine + 1;

    /// <summary>The last line of the code.</summary>
    public int LastCodeLine => FenceLine + Code.Split('\n').Length;

    /// <summary>A name for the block's project or file: its fence's line number.</summary>
    public string Id => "L" + FenceLine.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);

    public string Describe() => $"README.md line {FenceLine} ({Kind switch
    {
        ReadmeBlockKind.ConsoleProgram => "complete console program",
        ReadmeBlockKind.WebProgram => "complete web program",
        _ => "fragment in prelude " + Prelude,
    }})";

    /// <summary>Every csharp block of the markdown text; a marker this test does not understand is an error, not a skip.</summary>
    public static IReadOnlyList<ReadmeBlock> Parse(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var blocks = new List<ReadmeBlock>();
        for (var i = 0; i < lines.Length; i++)
        {
            var fence = FenceRegex().Match(lines[i]);
            if (!fence.Success)
            {
                continue;
            }

            var end = Array.FindIndex(lines, i + 1, l => l.TrimEnd() == fence.Groups["indent"].Value + "```");
            if (end < 0)
            {
                throw new FormatException($"README.md line {i + 1}: code block is never closed");
            }

            var language = fence.Groups["lang"].Value;
            if (language is "csharp" or "cs" or "c#")
            {
                if (language != "csharp")
                {
                    throw new FormatException($"README.md line {i + 1}: write ```csharp (the README check compiles only those, and every C# block must be checked)");
                }

                var code = string.Join('\n', lines[(i + 1)..end]);
                var (kind, prelude) = Marker(lines, i);
                blocks.Add(new ReadmeBlock(i + 1, code, kind, prelude));
            }

            i = end;
        }

        return blocks;
    }

    private static (ReadmeBlockKind Kind, string? Prelude) Marker(string[] lines, int fence)
    {
        var previous = fence > 0 ? lines[fence - 1].Trim() : string.Empty;
        if (!previous.StartsWith("<!--", StringComparison.Ordinal) || !previous.Contains("readme-check", StringComparison.Ordinal))
        {
            return (ReadmeBlockKind.ConsoleProgram, null);
        }

        var marker = MarkerRegex().Match(previous);
        if (!marker.Success)
        {
            throw new FormatException($"README.md line {fence}: unknown marker '{previous}'. {MarkerHelp}");
        }

        return marker.Groups["kind"].Value == "web"
            ? (ReadmeBlockKind.WebProgram, null)
            : (ReadmeBlockKind.Fragment, marker.Groups["prelude"].Value);
    }

    [GeneratedRegex(@"^(?<indent>\s*)```(?<lang>[^\s`]*)\s*$")]
    private static partial Regex FenceRegex();

    [GeneratedRegex(@"^<!--\s*readme-check:\s*(?:(?<kind>web)|(?<kind>fragment)\s+(?<prelude>[a-z0-9-]+))\s*-->$")]
    private static partial Regex MarkerRegex();
}
