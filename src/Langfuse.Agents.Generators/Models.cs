using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Langfuse.Agents.Generators;

/// <summary>
/// One use of an [Observe] method: either an interceptor (its code, with <c>__NAME__</c> for the method's name, and
/// its InterceptsLocation attribute) or a diagnostic. Plain strings, so the incremental pipeline can compare them.
/// </summary>
internal sealed record ObservedUse(string? Code, string? Attribute, DiagnosticInfo? Diagnostic)
{
    /// <summary>Where the call is, for a project-level diagnostic that should still point somewhere.</summary>
    public DiagnosticInfo? Site { get; init; }
}

/// <summary>
/// A diagnostic without Roslyn objects in it (those would defeat the pipeline's caching). The file path and span
/// are turned back into a source location when reported, so <c>#pragma warning disable LFA00x</c> works.
/// </summary>
internal sealed record DiagnosticInfo(string Id, string FilePath, TextSpan Span, LinePositionSpan LineSpan, string Arg0, string Arg1, string Arg2)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, SyntaxNode node, string arg0, string arg1, string arg2 = "") =>
        Create(descriptor, node.GetLocation(), arg0, arg1, arg2);

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location location, string arg0, string arg1, string arg2 = "") =>
        new(descriptor.Id, location.SourceTree?.FilePath ?? string.Empty, location.SourceSpan, location.GetLineSpan().Span, arg0, arg1, arg2);

    public DiagnosticInfo WithDescriptor(DiagnosticDescriptor descriptor, string arg0) =>
        this with { Id = descriptor.Id, Arg0 = arg0, Arg1 = string.Empty, Arg2 = string.Empty };

    public Diagnostic ToDiagnostic(Compilation compilation)
    {
        Location location = Location.Create(FilePath, Span, LineSpan);
        foreach (var tree in compilation.SyntaxTrees)
        {
            if (tree.FilePath == FilePath)
            {
                location = Location.Create(tree, Span);
                break;
            }
        }

        return Microsoft.CodeAnalysis.Diagnostic.Create(ObserveDiagnostics.ById(Id), location, Arg0, Arg1, Arg2);
    }
}
