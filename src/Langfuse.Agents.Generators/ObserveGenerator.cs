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

        // Whether this project can compile interceptors at all, read from its parse options (set by the package's
        // targets): without that, emitting them would break the build in a file the user cannot fix.
        var project = context.ParseOptionsProvider.Select(static (options, _) => WhyProjectUnsupported(options));

        // The compilation only to turn stored spans back into source locations when reporting.
        context.RegisterSourceOutput(uses.Combine(project).Combine(context.CompilationProvider),
            static (spc, input) => Emit(spc, input.Left.Left!, input.Left.Right, input.Right));
    }

    private static bool IsCandidate(SyntaxNode node) =>
        node is InvocationExpressionSyntax || IsMethodGroupCandidate(node) || IsOtherFunctionWithAttributes(node);

    /// <summary>Functions [Observe] may be written on but whose calls are not method invocations the compiler can intercept.</summary>
    private static bool IsOtherFunctionWithAttributes(SyntaxNode node) => node switch
    {
        LocalFunctionStatementSyntax local => local.AttributeLists.Count > 0,
        LambdaExpressionSyntax lambda => lambda.AttributeLists.Count > 0,
        AccessorDeclarationSyntax accessor => accessor.AttributeLists.Count > 0,
        OperatorDeclarationSyntax or ConversionOperatorDeclarationSyntax or DestructorDeclarationSyntax => ((MemberDeclarationSyntax)node).AttributeLists.Count > 0,
        MethodDeclarationSyntax method => method.ExplicitInterfaceSpecifier is not null && method.AttributeLists.Count > 0,
        _ => false,
    };

    /// <summary>A name used as a value (argument, initializer, assignment, return...), not called: maybe a method group.</summary>
    private static bool IsMethodGroupCandidate(SyntaxNode node) =>
        node is IdentifierNameSyntax or GenericNameSyntax or MemberAccessExpressionSyntax
        && node.Parent is ArgumentSyntax or EqualsValueClauseSyntax or ReturnStatementSyntax or ArrowExpressionClauseSyntax
            or CastExpressionSyntax or ConditionalExpressionSyntax or BinaryExpressionSyntax
        || (node is IdentifierNameSyntax or GenericNameSyntax or MemberAccessExpressionSyntax
            && node.Parent is AssignmentExpressionSyntax assignment && assignment.Right == node);

    private static ObservedUse? Analyze(GeneratorSyntaxContext context, CancellationToken cancellationToken) => context.Node switch
    {
        InvocationExpressionSyntax invocation => AnalyzeInvocation(context.SemanticModel, invocation, cancellationToken),
        ExpressionSyntax expression when !IsOtherFunctionWithAttributes(expression) => AnalyzeMethodGroup(context.SemanticModel, expression, cancellationToken),
        _ => AnalyzeDeclaration(context.SemanticModel, context.Node, cancellationToken),
    };

    /// <summary>[Observe] on a local function, lambda, operator, accessor, finalizer or explicit implementation: say so once, where it is written.</summary>
    private static ObservedUse? AnalyzeDeclaration(SemanticModel model, SyntaxNode node, CancellationToken cancellationToken)
    {
        var symbol = node is LambdaExpressionSyntax
            ? model.GetSymbolInfo(node, cancellationToken).Symbol
            : model.GetDeclaredSymbol(node, cancellationToken);
        if (symbol is not IMethodSymbol method || FindAttribute(method) is not { ApplicationSyntaxReference: { } reference })
        {
            return null;
        }

        const string MoveIt = "Make it a method of a class (in a top-level Program.cs: a static class below the statements, with the method marked [Observe]) and call that, or start an observation with LangfuseTracer inside it";
        const string CallAMethod = "Move the work into a method of the type marked [Observe] and call it from here, or start an observation with LangfuseTracer inside it";
        var (what, instead) = method.MethodKind switch
        {
            MethodKind.LocalFunction => ("a local function", MoveIt),
            MethodKind.AnonymousFunction => ("a lambda", MoveIt),
            MethodKind.UserDefinedOperator or MethodKind.Conversion => ("an operator", CallAMethod),
            MethodKind.PropertyGet or MethodKind.PropertySet or MethodKind.EventAdd or MethodKind.EventRemove => ("an accessor", CallAMethod),
            MethodKind.Destructor => ("a finalizer", CallAMethod),
            MethodKind.ExplicitInterfaceImplementation => ("an explicit interface implementation", "Put [Observe] on the interface's method (calls through the interface are then traced), or implement the method implicitly"),
            _ => (null, null),
        };
        if (what is null)
        {
            return null;
        }

        var name = method.MethodKind == MethodKind.AnonymousFunction ? "lambda" : method.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat);
        var location = reference.GetSyntax(cancellationToken).GetLocation();
        return new ObservedUse(null, null, DiagnosticInfo.Create(ObserveDiagnostics.UnsupportedDeclaration, location, name, what, instead!));
    }

    /// <summary>Why interceptors cannot compile in a project with these options, or null when they can.</summary>
    internal static string? WhyProjectUnsupported(ParseOptions options)
    {
        if (options is CSharpParseOptions { LanguageVersion: < LanguageVersion.CSharp11 } csharp)
        {
            return "the generated interceptors need C# 11 or later, and this project uses C# " + csharp.LanguageVersion.ToDisplayString()
                + ". Remove <LangVersion> or set it to 11 or later.";
        }

        foreach (var feature in new[] { "InterceptorsNamespaces", "InterceptorsPreviewNamespaces" })
        {
            if (options.Features.TryGetValue(feature, out var namespaces)
                && namespaces.Split(';').Any(n => n.Trim() == GeneratedNamespace))
            {
                return null;
            }
        }

        return "the compiler accepts interceptors only from the namespaces a project lists, and this one does not list "
            + GeneratedNamespace + " (the Langfuse.Agents package's build targets add it; they are not imported here). Add "
            + "<InterceptorsNamespaces>$(InterceptorsNamespaces);" + GeneratedNamespace + "</InterceptorsNamespaces> to the project.";
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

        // Local functions and the like: reported once at the declaration (LFA003), never intercepted (CS9207).
        if (method.MethodKind != MethodKind.Ordinary)
        {
            return null;
        }

        // A partial method without an implementation: the compiler removes its calls, so there is nothing to trace.
        if (method.IsPartialDefinition && method.PartialImplementationPart is null)
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
        return new ObservedUse(code, location.GetInterceptsLocationAttributeSyntax(), null)
        {
            Site = DiagnosticInfo.Create(ObserveDiagnostics.ProjectNotSupported, invocation, string.Empty, string.Empty),
        };
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

    private static void Emit(SourceProductionContext context, ImmutableArray<ObservedUse> uses, string? projectUnsupported, Compilation compilation)
    {
        var interceptors = new List<(string Code, List<string> Attributes)>();
        var byCode = new Dictionary<string, int>(System.StringComparer.Ordinal);
        foreach (var use in uses)
        {
            if (use.Diagnostic is { } diagnostic)
            {
                context.ReportDiagnostic(diagnostic.ToDiagnostic(compilation));
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

        if (projectUnsupported is not null)
        {
            // Once, at the first call it would have traced: the fix is in the project file, not at each call.
            var first = uses.First(u => u.Site is not null).Site!;
            context.ReportDiagnostic(first.WithDescriptor(ObserveDiagnostics.ProjectNotSupported, projectUnsupported).ToDiagnostic(compilation));
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
