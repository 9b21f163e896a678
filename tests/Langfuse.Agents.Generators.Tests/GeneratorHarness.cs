using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Langfuse.Agents.Generators.Tests;

/// <summary>Compiles a source snippet against the SDK, runs the [Observe] generator on it, and compiles the result.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return platform.Append(typeof(LangfuseTracer).Assembly.Location)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    });

    public static CSharpParseOptions ParseOptions { get; } = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Preview)
        .WithFeatures([new("InterceptorsNamespaces", ObserveGenerator.GeneratedNamespace)]);

    public static Result Run(string source, NullableContextOptions nullable = NullableContextOptions.Enable)
    {
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [CSharpSyntaxTree.ParseText(source, ParseOptions, path: "Snippet.cs")],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: nullable, allowUnsafe: true));

        GeneratorDriver driver = CSharpGeneratorDriver.Create([new ObserveGenerator().AsSourceGenerator()], parseOptions: ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var generated = driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()).SingleOrDefault() ?? string.Empty;
        return new Result((CSharpCompilation)output, generated, generatorDiagnostics, output.GetDiagnostics());
    }

    public sealed record Result(CSharpCompilation Compilation, string Generated, ImmutableArray<Diagnostic> GeneratorDiagnostics, ImmutableArray<Diagnostic> CompileDiagnostics)
    {
        /// <summary>Errors and warnings of the final compilation, as text for a readable failure.</summary>
        public string Problems => string.Join("\n", CompileDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning)) + "\n---\n" + Generated;

        public int InterceptedCalls => Generated.Split("InterceptsLocationAttribute(1, ").Length - 1;
    }
}
