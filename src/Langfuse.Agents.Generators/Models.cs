using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Langfuse.Agents.Generators;

/// <summary>
/// One use of an [Observe] method: either an interceptor (its code, with <c>__NAME__</c> for the method's name, and
/// its InterceptsLocation attribute) or a diagnostic. Plain strings, so the incremental pipeline can compare them.
/// </summary>
internal sealed record ObservedUse(string? Code, string? Attribute, DiagnosticInfo? Diagnostic);

/// <summary>A diagnostic without Roslyn objects in it (those would defeat the pipeline's caching).</summary>
internal sealed record DiagnosticInfo(string Id, string FilePath, TextSpan Span, LinePositionSpan LineSpan, string Arg0, string Arg1)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, SyntaxNode node, string arg0, string arg1)
    {
        var location = node.GetLocation();
        return new DiagnosticInfo(descriptor.Id, location.SourceTree?.FilePath ?? string.Empty, location.SourceSpan, location.GetLineSpan().Span, arg0, arg1);
    }

    public Diagnostic ToDiagnostic()
    {
        var descriptor = Id == ObserveDiagnostics.MethodGroup.Id ? ObserveDiagnostics.MethodGroup : ObserveDiagnostics.Unsupported;
        return Microsoft.CodeAnalysis.Diagnostic.Create(descriptor, Location.Create(FilePath, Span, LineSpan), Arg0, Arg1);
    }
}
