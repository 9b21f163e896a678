using System.Text;
using System.Text.RegularExpressions;

namespace Langfuse.Agents.Generators.Tests.Readme;

/// <summary>
/// One restore and one build of every README block: a project per complete program (Program.cs is the block as
/// written), and one project for all fragments (each in its own file and namespace, inside its prelude, with
/// <c>#line</c> pointing back at README.md).
/// </summary>
public sealed partial record ReadmeBuild(string Directory, IReadOnlyList<ReadmeBlock> Blocks, int ExitCode, string Output)
{
    private const string FragmentsProject = "fragments";

    public static async Task<ReadmeBuild> RunAsync(PackedFeed feed)
    {
        var blocks = ReadmeBlock.Parse(await File.ReadAllTextAsync(Path.Combine(feed.RepositoryRoot, "README.md")));
        var root = System.IO.Directory.CreateDirectory(Path.Combine(feed.Work.FullName, "readme")).FullName;
        var preludes = Path.Combine(AppContext.BaseDirectory, "Readme", "Preludes");
        var projects = new List<string>();

        foreach (var block in blocks.Where(b => b.Kind != ReadmeBlockKind.Fragment))
        {
            var web = block.Kind == ReadmeBlockKind.WebProgram;
            var directory = System.IO.Directory.CreateDirectory(Path.Combine(root, block.Id)).FullName;
            await File.WriteAllTextAsync(Path.Combine(directory, block.Id + ".csproj"), Project(web ? "Microsoft.NET.Sdk.Web" : "Microsoft.NET.Sdk", "Exe", web));
            await File.WriteAllTextAsync(Path.Combine(directory, "Program.cs"), block.Code);
            projects.Add(Path.Combine(block.Id, block.Id + ".csproj"));
        }

        var fragments = blocks.Where(b => b.Kind == ReadmeBlockKind.Fragment).ToList();
        if (fragments.Count > 0)
        {
            var directory = System.IO.Directory.CreateDirectory(Path.Combine(root, FragmentsProject)).FullName;
            await File.WriteAllTextAsync(Path.Combine(directory, FragmentsProject + ".csproj"), Project("Microsoft.NET.Sdk.Web", "Library", web: true));
            File.Copy(Path.Combine(preludes, "_shared.cs.txt"), Path.Combine(directory, "_shared.cs"));
            foreach (var block in fragments)
            {
                var prelude = Path.Combine(preludes, block.Prelude + ".cs.txt");
                var text = File.Exists(prelude)
                    ? await File.ReadAllTextAsync(prelude)
                    : $"#error {block.Describe()}: there is no prelude Readme/Preludes/{block.Prelude}.cs.txt\n";
                await File.WriteAllTextAsync(Path.Combine(directory, block.Id + ".cs"), Insert(block, text));
            }

            projects.Add(Path.Combine(FragmentsProject, FragmentsProject + ".csproj"));
        }

        var solution = new StringBuilder("<Solution>\n");
        foreach (var project in projects)
        {
            solution.Append("  <Project Path=\"").Append(project).AppendLine("\" />");
        }

        await File.WriteAllTextAsync(Path.Combine(root, "readme.slnx"), solution.Append("</Solution>\n").ToString());
        await feed.WriteNuGetConfigAsync(root);
        var (exitCode, output) = await PackedFeed.RunAsync(root, new Dictionary<string, string>(), "dotnet", "build", "readme.slnx",
            $"-p:LangfuseAgentsVersion={feed.Version}", "--disable-build-servers", "-nodeReuse:false", "-clp:NoSummary");
        return new ReadmeBuild(root, blocks, exitCode, output);
    }

    /// <summary>
    /// The prelude with the fragment at <c>/*README*/</c>, under <c>#line</c> directives so errors name README.md lines.
    /// A fragment's own using directives (<c>using Langfuse.Agents;</c>) move to the top of the file, where C# wants
    /// them, unless the prelude has them already.
    /// </summary>
    private static string Insert(ReadmeBlock block, string prelude)
    {
        var top = new StringBuilder();
        var body = new StringBuilder();
        var lines = block.Code.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (UsingDirectiveRegex().IsMatch(line))
            {
                if (!prelude.Contains(line.Trim() + "\n", StringComparison.Ordinal))
                {
                    top.Append("#line ").Append(block.FirstCodeLine + i).AppendLine(" \"README.md\"").AppendLine(line).AppendLine("#line default");
                }

                line = string.Empty;
            }

            body.Append(line).Append('\n');
        }

        var inserted = $"#line {block.FirstCodeLine} \"README.md\"\n{body}#line default";
        return top + prelude
            .Replace("__NAMESPACE__", "Readme." + block.Id, StringComparison.Ordinal)
            .Replace("/*README*/", inserted, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^using\s+(?:static\s+)?[\w.]+(?:\s*=\s*[\w.<>]+)?\s*;\s*$")]
    private static partial Regex UsingDirectiveRegex();

    /// <summary>What <c>dotnet new console</c> (or <c>web</c>) writes, plus the packages and warnings as errors.</summary>
    private static string Project(string sdk, string outputType, bool web) => $"""
        <Project Sdk="{sdk}">
          <PropertyGroup>
            <OutputType>{outputType}</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <Nullable>enable</Nullable>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Langfuse.Agents" Version="$(LangfuseAgentsVersion)" />
            {(web ? "<PackageReference Include=\"Langfuse.Agents.AspNetCore\" Version=\"$(LangfuseAgentsVersion)\" />" : string.Empty)}
          </ItemGroup>
        </Project>
        """;

    /// <summary>
    /// Each compiler or build error as "README.md line N (kind): README.md(line,column): error ID: message", with
    /// the line in README.md; errors that belong to no block (restore, a prelude) are reported as they are.
    /// </summary>
    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        foreach (var line in Output.Split('\n').Select(l => l.TrimEnd()).Distinct(StringComparer.Ordinal))
        {
            var match = DiagnosticRegex().Match(line);
            if (!match.Success)
            {
                if (line.Contains(": error ", StringComparison.Ordinal))
                {
                    failures.Add(line);
                }

                continue;
            }

            var file = match.Groups["file"].Value.Replace('\\', '/');
            var at = int.Parse(match.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var column = match.Groups["column"].Value;
            var what = match.Groups["what"].Value;
            ReadmeBlock? block = null;
            var readmeLine = at;
            if (file.EndsWith("/Program.cs", StringComparison.Ordinal))
            {
                var id = Path.GetFileName(Path.GetDirectoryName(file));
                block = Blocks.FirstOrDefault(b => b.Id == id && b.Kind != ReadmeBlockKind.Fragment);
                readmeLine = (block?.FenceLine ?? 0) + at;
            }
            else if (file.EndsWith("README.md", StringComparison.Ordinal))
            {
                block = Blocks.FirstOrDefault(b => b.Kind == ReadmeBlockKind.Fragment && b.FirstCodeLine <= at && at <= b.LastCodeLine);
            }

            failures.Add(block is null
                ? line
                : $"{block.Describe()}: README.md({readmeLine},{column}): {what}");
        }

        return failures;
    }

    [GeneratedRegex(@"^\s*(?<file>[^(\s][^(]*)\((?<line>\d+),(?<column>\d+)\): (?<what>(?:error|warning) [A-Z]+\d+: .*?)(?: \[[^\]]+\])?$")]
    private static partial Regex DiagnosticRegex();
}
