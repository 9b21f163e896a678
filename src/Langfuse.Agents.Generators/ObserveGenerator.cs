using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Langfuse.Agents.Generators;

/// <summary>
/// Emits a C# interceptor for every direct call of a method marked <c>[Observe]</c>: the interceptor starts an
/// observation, records the arguments, calls the method, and finishes the observation for the kind of result
/// (value, task, value task, async stream). Uses it cannot rewrite (method groups, base calls, inaccessible types)
/// get a build warning instead.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ObserveGenerator : IIncrementalGenerator
{
    /// <summary>The attribute's metadata name.</summary>
    public const string AttributeName = "Langfuse.Agents.ObserveAttribute";

    /// <summary>The namespace of the interceptors: it must be listed in the project's InterceptorsNamespaces.</summary>
    public const string GeneratedNamespace = "Langfuse.Agents.Generated";

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var uses = context.SyntaxProvider
            .CreateSyntaxProvider(static (node, _) => IsCandidate(node), static (ctx, ct) => Analyze(ctx, ct))
            .Where(static use => use is not null)
            .Collect();

        context.RegisterSourceOutput(uses, static (spc, all) => Emit(spc, all!));
    }

    private static bool IsCandidate(SyntaxNode node) =>
        node is InvocationExpressionSyntax || IsMethodGroupCandidate(node);

    /// <summary>A name used as a value (argument, initializer, assignment, return...), not called: maybe a method group.</summary>
    private static bool IsMethodGroupCandidate(SyntaxNode node) =>
        node is IdentifierNameSyntax or GenericNameSyntax or MemberAccessExpressionSyntax
        && node.Parent is ArgumentSyntax or EqualsValueClauseSyntax or ReturnStatementSyntax or ArrowExpressionClauseSyntax
            or CastExpressionSyntax or ConditionalExpressionSyntax or BinaryExpressionSyntax
        || (node is IdentifierNameSyntax or GenericNameSyntax or MemberAccessExpressionSyntax
            && node.Parent is AssignmentExpressionSyntax assignment && assignment.Right == node);

    private static ObservedUse? Analyze(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        return context.Node is InvocationExpressionSyntax invocation
            ? AnalyzeInvocation(context.SemanticModel, invocation, cancellationToken)
            : AnalyzeMethodGroup(context.SemanticModel, (ExpressionSyntax)context.Node, cancellationToken);
    }

    private static ObservedUse? AnalyzeMethodGroup(SemanticModel model, ExpressionSyntax expression, CancellationToken cancellationToken)
    {
        if (model.GetSymbolInfo(expression, cancellationToken).Symbol is not IMethodSymbol method || FindAttribute(method) is null)
        {
            return null;
        }

        if (model.GetOperation(expression, cancellationToken) is not IMethodReferenceOperation)
        {
            return null;
        }

        var name = method.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat);
        return new ObservedUse(null, null, DiagnosticInfo.Create(ObserveDiagnostics.MethodGroup, expression, name, method.Name));
    }

    private static ObservedUse? AnalyzeInvocation(SemanticModel model, InvocationExpressionSyntax invocation, CancellationToken cancellationToken)
    {
        if (model.GetOperation(invocation, cancellationToken) is not IInvocationOperation operation)
        {
            return null;
        }

        var method = operation.TargetMethod;
        var attribute = FindAttribute(method);
        if (attribute is null)
        {
            return null;
        }

        // base.M(): an interceptor would call M virtually again and recurse forever. The override's own call is traced.
        if (operation.Instance?.Syntax is BaseExpressionSyntax)
        {
            return null;
        }

        var display = method.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat);
        ObservedUse Unsupported(string reason) =>
            new(null, null, DiagnosticInfo.Create(ObserveDiagnostics.Unsupported, invocation, display, reason));

        if (IsInExpressionTree(model, invocation, cancellationToken))
        {
            return Unsupported("calls inside an expression tree cannot be rewritten");
        }

        var reason = InterceptorWriter.WhyUnsupported(model.Compilation, method);
        if (reason is not null)
        {
            return Unsupported(reason);
        }

        var location = model.GetInterceptableLocation(invocation, cancellationToken);
        if (location is null)
        {
            return Unsupported("the compiler cannot intercept this call");
        }

        var settings = ObserveSettings.From(attribute, method.Name);
        var code = InterceptorWriter.Write(model.Compilation, method, settings);
        return new ObservedUse(code, location.GetInterceptsLocationAttributeSyntax(), null);
    }

    internal static AttributeData? FindAttribute(IMethodSymbol method)
    {
        var definition = (method.ReducedFrom ?? method).OriginalDefinition;
        foreach (var attribute in definition.GetAttributes())
        {
            if (attribute.AttributeClass is { Name: "ObserveAttribute" } type
                && type.ToDisplayString() == AttributeName)
            {
                return attribute;
            }
        }

        return null;
    }

    private static bool IsInExpressionTree(SemanticModel model, SyntaxNode node, CancellationToken cancellationToken)
    {
        foreach (var ancestor in node.Ancestors())
        {
            if (ancestor is LambdaExpressionSyntax lambda
                && model.GetTypeInfo(lambda, cancellationToken).ConvertedType is INamedTypeSymbol { Name: "Expression" } type
                && type.ContainingNamespace.ToDisplayString() == "System.Linq.Expressions")
            {
                return true;
            }

            if (ancestor is MemberDeclarationSyntax)
            {
                return false;
            }
        }

        return false;
    }

    private static void Emit(SourceProductionContext context, ImmutableArray<ObservedUse> uses)
    {
        var interceptors = new List<(string Code, List<string> Attributes)>();
        var byCode = new Dictionary<string, int>(System.StringComparer.Ordinal);
        foreach (var use in uses)
        {
            if (use.Diagnostic is { } diagnostic)
            {
                context.ReportDiagnostic(diagnostic.ToDiagnostic());
                continue;
            }

            if (use.Code is null || use.Attribute is null)
            {
                continue;
            }

            if (!byCode.TryGetValue(use.Code, out var index))
            {
                index = interceptors.Count;
                byCode[use.Code] = index;
                interceptors.Add((use.Code, new List<string>()));
            }

            interceptors[index].Attributes.Add(use.Attribute);
        }

        if (interceptors.Count == 0)
        {
            return;
        }

        var source = new StringBuilder();
        source.AppendLine("// <auto-generated/>");
        source.AppendLine("// [Observe] interceptors, generated by Langfuse.Agents.Generators.");
        source.AppendLine();
        source.AppendLine("namespace System.Runtime.CompilerServices");
        source.AppendLine("{");
        source.AppendLine("    [global::System.AttributeUsage(global::System.AttributeTargets.Method, AllowMultiple = true)]");
        source.AppendLine("    file sealed class InterceptsLocationAttribute : global::System.Attribute");
        source.AppendLine("    {");
        source.AppendLine("        public InterceptsLocationAttribute(int version, string data)");
        source.AppendLine("        {");
        source.AppendLine("            _ = version;");
        source.AppendLine("            _ = data;");
        source.AppendLine("        }");
        source.AppendLine("    }");
        source.AppendLine("}");
        source.AppendLine();
        source.Append("namespace ").AppendLine(GeneratedNamespace);
        source.AppendLine("{");
        source.AppendLine("    file static class ObserveInterceptors");
        source.AppendLine("    {");
        for (var i = 0; i < interceptors.Count; i++)
        {
            var (code, attributes) = interceptors[i];
            var lines = code.Replace("__NAME__", "Intercept" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var marker = lines.IndexOf("/*ATTRIBUTES*/", System.StringComparison.Ordinal);
            var attributeText = new StringBuilder();
            foreach (var attribute in attributes)
            {
                attributeText.Append("        ").AppendLine(attribute);
            }

            source.Append(lines.Substring(0, marker)).Append(attributeText).Append(lines.Substring(marker + "/*ATTRIBUTES*/\n".Length));
            source.AppendLine();
        }

        source.AppendLine("    }");
        source.AppendLine("}");
        context.AddSource("ObserveInterceptors.g.cs", source.ToString());
    }
}
