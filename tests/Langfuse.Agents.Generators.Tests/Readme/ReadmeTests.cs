using System.Text;
using System.Text.RegularExpressions;
using Langfuse.Agents.Testing;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Generators.Tests.Readme;

/// <summary>
/// Every <c>```csharp</c> block of README.md compiles against the packed packages, with warnings as errors: complete
/// programs each as the Program.cs of their own new app (as a reader would paste them), fragments inside their
/// declared prelude, all in one restore and one build. The [Observe] example is also run, to show the generator works
/// for a consumer.
/// </summary>
[Collection(PackedFeedGroup.Name)]
public sealed partial class ReadmeTests(PackedFeed feed)
{
    private static readonly SemaphoreSlim s_gate = new(1, 1);
    private static Task<ReadmeBuild>? s_build;

    [Fact]
    public async Task EveryCSharpBlock_Compiles_AgainstThePackedPackages()
    {
        var build = await BuildAsync();

        build.Blocks.Count.ShouldBeGreaterThan(0);
        var failures = build.Failures();
        failures.ShouldBeEmpty(ReadmeBlock.MarkerHelp);
        build.ExitCode.ShouldBe(0, build.Output);
    }

    [Fact]
    public async Task ObserveExample_BuildsAsPastedIntoANewConsoleApp_AndTracesItsCalls()
    {
        var build = await BuildAsync();
        var example = build.Blocks.Where(b => b.Code.Contains("[Observe(", StringComparison.Ordinal)).ToList()
            .ShouldHaveSingleItem("the README has one [Observe] example");
        example.Kind.ShouldBe(ReadmeBlockKind.ConsoleProgram, "the [Observe] example is a complete Program.cs");
        build.Failures().Where(f => f.StartsWith(example.Describe(), StringComparison.Ordinal)).ShouldBeEmpty();

        // Exactly what was pasted: Program.cs is the block's text, unchanged.
        var project = Path.Combine(build.Directory, example.Id);
        (await File.ReadAllTextAsync(Path.Combine(project, "Program.cs"))).ShouldBe(example.Code);

        await using var server = await FakeLangfuseServer.StartAsync();
        var run = await PackedFeed.RunAsync(project, new Dictionary<string, string>
        {
            ["LANGFUSE_PUBLIC_KEY"] = server.PublicKey,
            ["LANGFUSE_SECRET_KEY"] = server.SecretKey,
            ["LANGFUSE_BASE_URL"] = server.BaseUrl.ToString(),
            ["LANGFUSE_BUFFER_DIR"] = Path.Combine(feed.Work.FullName, "readme-buffer"),
        }, "dotnet", Path.Combine(project, "bin", "Debug", "net10.0", example.Id + ".dll"));
        run.ExitCode.ShouldBe(0, run.Output);

        // Every [Observe] method of the example is called once: each is one observation, nested in one trace.
        var expected = ObservedNames(example.Code);
        expected.Count.ShouldBeGreaterThan(1);
        await server.WaitForSpansAsync(expected.Count, TimeSpan.FromSeconds(10));
        var spans = server.Spans;
        spans.Select(s => s.Name).Order(StringComparer.Ordinal).ShouldBe(expected.Order(StringComparer.Ordinal), server.Describe());
        spans.Select(s => s.TraceId).Distinct().ShouldHaveSingleItem();
        var root = spans.Where(s => s.IsRoot).ShouldHaveSingleItem();
        spans.Where(s => s != root).ShouldAllBe(s => spans.Any(p => p.SpanId == s.ParentSpanId));
    }

    [Fact]
    public void Parse_ReadsMarkers_AndRejectsUnknownOnes()
    {
        var blocks = ReadmeBlock.Parse("""
            text
            ```csharp
            Console.WriteLine();
            ```
            <!-- readme-check: web -->
            ```csharp
            var app = WebApplication.Create();
            ```
            <!-- readme-check: fragment agent -->
            ```csharp
            tracer.StartAgent("a");
            ```
            ```bash
            echo not C#
            ```
            """);

        blocks.Select(b => (b.FenceLine, b.Kind, b.Prelude)).ShouldBe(
            [(2, ReadmeBlockKind.ConsoleProgram, null), (6, ReadmeBlockKind.WebProgram, null), (10, ReadmeBlockKind.Fragment, "agent")]);
        blocks[2].Code.ShouldBe("tracer.StartAgent(\"a\");");
        Should.Throw<FormatException>(() => ReadmeBlock.Parse("<!-- readme-check: fragmnet agent -->\n```csharp\nx\n```"))
            .Message.ShouldContain("line 1");
        Should.Throw<FormatException>(() => ReadmeBlock.Parse("```cs\nx\n```")).Message.ShouldContain("```csharp");
    }

    [Fact]
    public void Failures_NameTheBlockAndItsReadmeLine()
    {
        var blocks = ReadmeBlock.Parse("a\n```csharp\nConsole.WriteLine(x);\n```\n<!-- readme-check: fragment agent -->\n```csharp\nfoo();\n```");
        var build = new ReadmeBuild("/tmp/readme", blocks, 1, string.Join('\n',
            "/tmp/readme/L0002/Program.cs(1,19): error CS0103: The name 'x' does not exist in the current context [/tmp/readme/L0002/L0002.csproj]",
            "/tmp/readme/fragments/README.md(7,1): error CS0103: The name 'foo' does not exist in the current context [/tmp/readme/fragments/fragments.csproj]",
            "/tmp/readme/fragments/README.md(7,1): error CS0103: The name 'foo' does not exist in the current context [/tmp/readme/fragments/fragments.csproj]"));

        build.Failures().ShouldBe([
            "README.md line 2 (complete console program): README.md(3,19): error CS0103: The name 'x' does not exist in the current context",
            "README.md line 6 (fragment in prelude agent): README.md(7,1): error CS0103: The name 'foo' does not exist in the current context",
        ]);
    }

    /// <summary>The observation names the [Observe] attributes of a block ask for: Name = "...", else the method's name.</summary>
    private static List<string> ObservedNames(string code) =>
        [.. ObserveRegex().Matches(code).Select(m => m.Groups["name"].Success ? m.Groups["name"].Value : m.Groups["method"].Value)];

    [GeneratedRegex(@"^\s*\[Observe(?:\((?:[^)]*?Name\s*=\s*""(?<name>[^""]+)"")?[^)]*\))?\]\s*(?:(?:public|private|internal|static|async)\s+)*[\w<>\[\],\s]+?\s(?<method>\w+)\s*\(", RegexOptions.Multiline)]
    private static partial Regex ObserveRegex();

    private Task<ReadmeBuild> BuildAsync()
    {
        s_gate.Wait();
        try
        {
            return s_build ??= ReadmeBuild.RunAsync(feed);
        }
        finally
        {
            s_gate.Release();
        }
    }
}
