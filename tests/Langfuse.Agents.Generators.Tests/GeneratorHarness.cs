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
            .Distinct(StringComparer.Ordinal)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    });

    /// <summary>What a .NET 10 project gets: the newest language version, and the generator's namespace enabled (by the package's targets).</summary>
    public static CSharpParseOptions ParseOptions { get; } = Parse(LanguageVersion.Latest, interceptorsEnabled: true);

    public static CSharpParseOptions Parse(LanguageVersion version, bool interceptorsEnabled) =>
        CSharpParseOptions.Default
            .WithLanguageVersion(version)
            .WithFeatures(interceptorsEnabled ? [new("InterceptorsNamespaces", "Other.Namespace;" + ObserveGenerator.GeneratedNamespace)] : []);

    public static Result Run(
        string source,
        NullableContextOptions nullable = NullableContextOptions.Enable,
        OutputKind outputKind = OutputKind.DynamicallyLinkedLibrary,
        CSharpParseOptions? parseOptions = null,
        string assemblyName = "Snippet")
    {
        parseOptions ??= ParseOptions;

        // As strict as a project with TreatWarningsAsErrors and the newest warning wave: a warning in the generated
        // file would break such a build, so the tests count warnings like errors.
        var compilation = CSharpCompilation.Create(
            assemblyName,
            [CSharpSyntaxTree.ParseText(source, parseOptions, path: "Snippet.cs")],
            References.Value,
            new CSharpCompilationOptions(outputKind, nullableContextOptions: nullable, allowUnsafe: true, warningLevel: 9999));

        GeneratorDriver driver = CSharpGeneratorDriver.Create([new ObserveGenerator().AsSourceGenerator()], parseOptions: parseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var generated = driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()).SingleOrDefault() ?? string.Empty;
        return new Result((CSharpCompilation)output, generated, generatorDiagnostics, output.GetDiagnostics());
    }

    public sealed record Result(CSharpCompilation Compilation, string Generated, ImmutableArray<Diagnostic> GeneratorDiagnostics, ImmutableArray<Diagnostic> CompileDiagnostics)
    {
        /// <summary>Errors and warnings of the final compilation (hidden and info ones left out).</summary>
        public IReadOnlyList<Diagnostic> Problems => [.. CompileDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning)];

        /// <summary>The problems, the generator's diagnostics and the generated file, as text for a readable failure.</summary>
        public string Describe() =>
            string.Join("\n", Problems) + "\n--- generator:\n" + string.Join("\n", GeneratorDiagnostics) + "\n--- generated:\n" + Generated;

        public int InterceptedCalls => Generated.Split("InterceptsLocationAttribute(1, ").Length - 1;
    }
}
