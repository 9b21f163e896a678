using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Langfuse.Agents.Generators;

/// <summary>Writes the interceptor for one [Observe] method, as text with <c>__NAME__</c> for its name.</summary>
internal static class InterceptorWriter
{
    private const string Runtime = "global::Langfuse.Agents.Observe.ObserveRuntime";

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private enum ResultKind
    {
        Void,
        Value,
        Task,
        TaskOfT,
        ValueTask,
        ValueTaskOfT,
        AsyncEnumerable,
    }

    /// <summary>Why a call of <paramref name="method"/> cannot get an interceptor, or null when it can.</summary>
    public static string? WhyUnsupported(Compilation compilation, IMethodSymbol method)
    {
        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            return "methods returning by reference are not supported";
        }

        if (method.ReturnType.IsRefLikeType)
        {
            return "methods returning a ref struct are not supported";
        }

        var containing = method.ContainingType;
        if (containing.IsGenericType && ContainsTypeParameter(containing))
        {
            return "calls to a method of an open generic type are not supported";
        }

        if (!compilation.IsSymbolAccessibleWithin(containing, compilation.Assembly))
        {
            return "its type is not accessible from generated code (a private or protected nested type)";
        }

        var definition = Definition(method);
        foreach (var type in new[] { definition.ReturnType }.Concat(definition.Parameters.Select(p => p.Type)))
        {
            if (type is IPointerTypeSymbol or IFunctionPointerTypeSymbol)
            {
                return "pointer types are not supported";
            }

            if (!IsAccessible(compilation, type))
            {
                return "a type in its signature is not accessible from generated code";
            }
        }

        if (!IsDirectlyCallable(compilation, method))
        {
            if (compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.UnsafeAccessorAttribute") is null)
            {
                return "private methods need UnsafeAccessor (.NET 8 or later)";
            }

            if (method.IsStatic && containing.IsStatic
                && compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.UnsafeAccessorTypeAttribute") is null)
            {
                return "private methods of static classes need UnsafeAccessorType (.NET 10 or later)";
            }
        }

        return null;
    }

    public static string Write(Compilation compilation, IMethodSymbol method, ObserveSettings settings)
    {
        var definition = Definition(method);
        var direct = IsDirectlyCallable(compilation, method);
        var nullable = !UsesObliviousTypes(definition);
        var obj = nullable ? "object?" : "object";
        var kind = Classify(definition.ReturnType);
        var returnType = definition.ReturnsVoid ? "void" : Display(definition.ReturnType);
        var typeParameters = definition.TypeParameters.Length == 0
            ? string.Empty
            : "<" + string.Join(", ", definition.TypeParameters.Select(t => t.Name)) + ">";
        var constraints = Constraints(definition.TypeParameters);
        var containing = Display(method.ContainingType);
        var isExtension = definition.IsExtensionMethod;
        var instance = !definition.IsStatic;
        var selfType = method.ContainingType.IsValueType ? "ref " + containing : containing;

        // Interceptor parameters: the receiver first (as an extension-style 'this'), then the method's own.
        var parameters = new List<string>();
        if (instance)
        {
            parameters.Add("this " + selfType + " __self");
        }

        for (var i = 0; i < definition.Parameters.Length; i++)
        {
            var parameter = definition.Parameters[i];
            parameters.Add((isExtension && i == 0 ? "this " : string.Empty) + RefKindPrefix(parameter.RefKind) + Display(parameter.Type) + " " + Identifier(parameter.Name));
        }

        var arguments = string.Join(", ", definition.Parameters.Select(p => ArgumentPrefix(p.RefKind) + Identifier(p.Name)));
        string call;
        var accessor = new StringBuilder();
        if (direct)
        {
            call = instance
                ? "__self." + Identifier(method.Name) + typeParameters + "(" + arguments + ")"
                : containing + "." + Identifier(method.Name) + typeParameters + "(" + arguments + ")";
        }
        else
        {
            // Not accessible from here: call it through UnsafeAccessor (no reflection, AOT-safe).
            var accessorParameters = new List<string>();
            string receiver;
            if (instance)
            {
                accessorParameters.Add(selfType + " __self");
                receiver = method.ContainingType.IsValueType ? "ref __self" : "__self";
            }
            else if (method.ContainingType.IsStatic)
            {
                accessorParameters.Add("[global::System.Runtime.CompilerServices.UnsafeAccessorType(" + Literal(AssemblyQualifiedName(method.ContainingType)) + ")] " + obj + " __type");
                receiver = "null";
            }
            else
            {
                accessorParameters.Add(containing + (nullable && !method.ContainingType.IsValueType ? "?" : string.Empty) + " __type");
                receiver = "default";
            }

            accessorParameters.AddRange(definition.Parameters.Select(p => RefKindPrefix(p.RefKind) + Display(p.Type) + " " + Identifier(p.Name)));
            var accessorKind = instance ? "Method" : "StaticMethod";
            accessor.Append("        [global::System.Runtime.CompilerServices.UnsafeAccessor(global::System.Runtime.CompilerServices.UnsafeAccessorKind.")
                .Append(accessorKind).Append(", Name = ").Append(Literal(method.Name)).AppendLine(")]");
            accessor.Append("        private static extern ").Append(returnType).Append(" __NAME__Call").Append(typeParameters)
                .Append('(').Append(string.Join(", ", accessorParameters)).Append(')').Append(constraints).AppendLine(";");
            accessor.AppendLine();
            call = "__NAME__Call" + typeParameters + "(" + receiver + (arguments.Length > 0 ? ", " + arguments : string.Empty) + ")";
        }

        var async = kind is ResultKind.Task or ResultKind.TaskOfT or ResultKind.ValueTask or ResultKind.ValueTaskOfT or ResultKind.AsyncEnumerable;
        var type = "(global::Langfuse.Agents.ObservationType)" + settings.Type.ToString(CultureInfo.InvariantCulture);
        var body = new StringBuilder();
        body.Append("            var __lf = ").Append(Runtime).Append(".Start(").Append(Literal(settings.Name)).Append(", ").Append(type)
            .AppendLine(async ? ", out var __prev);" : ");");

        var inputs = definition.Parameters.Where(IsCaptured).ToList();
        if (settings.CaptureInput && inputs.Count > 0)
        {
            body.Append("            if (__lf is not null && ").Append(Runtime).AppendLine(".CaptureEnabled)");
            body.AppendLine("            {");
            body.Append("                ").Append(Runtime).Append(".SetInput(__lf, new global::System.Collections.Generic.Dictionary<string, ").Append(obj).Append(">(")
                .Append(inputs.Count.ToString(CultureInfo.InvariantCulture)).Append(") { ")
                .Append(string.Join(", ", inputs.Select(p => "[" + Literal(p.Name) + "] = " + Identifier(p.Name))))
                .AppendLine(" });");
            body.AppendLine("            }");
        }

        var captureOutput = settings.CaptureOutput ? "true" : "false";
        switch (kind)
        {
            case ResultKind.Void:
                WriteTry(body, call + ";", async: false);
                body.Append("            ").Append(Runtime).AppendLine(".End(__lf);");
                break;
            case ResultKind.Value:
                body.Append("            ").Append(returnType).AppendLine(" __result;");
                WriteTry(body, "__result = " + call + ";", async: false);
                body.Append("            ").Append(Runtime).AppendLine(settings.CaptureOutput ? ".Complete(__lf, __result);" : ".End(__lf);");
                body.AppendLine("            return __result;");
                break;
            default:
                body.Append("            ").Append(returnType).AppendLine(" __result;");
                WriteTry(body, "__result = " + call + ";", async: true);
                var complete = kind switch
                {
                    ResultKind.Task => ".CompleteTask(__lf, __result)",
                    ResultKind.TaskOfT => ".CompleteTask(__lf, __result, " + captureOutput + ")",
                    ResultKind.ValueTask => ".CompleteValueTask(__lf, __result)",
                    ResultKind.ValueTaskOfT => ".CompleteValueTask(__lf, __result, " + captureOutput + ")",
                    _ => ".CompleteStream(__lf, __result, " + captureOutput + ")",
                };
                body.Append("            return ").Append(Runtime).Append(complete).AppendLine(";");
                break;
        }

        var code = new StringBuilder();
        code.AppendLine(nullable ? "#nullable enable" : "#nullable disable");
        code.Append(accessor);
        code.AppendLine("/*ATTRIBUTES*/");
        code.AppendLine("        [global::System.Diagnostics.DebuggerStepThrough]");
        code.AppendLine("        [global::System.Diagnostics.StackTraceHidden]");
        code.Append("        internal static ").Append(returnType).Append(" __NAME__").Append(typeParameters)
            .Append('(').Append(string.Join(", ", parameters)).Append(')').AppendLine(constraints);
        code.AppendLine("        {");
        code.Append(body);
        code.AppendLine("        }");
        return code.ToString();
    }

    private static void WriteTry(StringBuilder body, string statement, bool async)
    {
        body.AppendLine("            try");
        body.AppendLine("            {");
        body.Append("                ").AppendLine(statement);
        body.AppendLine("            }");
        body.AppendLine("            catch (global::System.Exception __e)");
        body.AppendLine("            {");
        body.Append("                ").Append(Runtime).AppendLine(".Fail(__lf, __e);");
        body.AppendLine("                throw;");
        body.AppendLine("            }");
        if (async)
        {
            // The task or stream goes on without the caller: hand the caller its own current observation back.
            body.AppendLine("            finally");
            body.AppendLine("            {");
            body.Append("                ").Append(Runtime).AppendLine(".Restore(__lf, __prev);");
            body.AppendLine("            }");
        }
    }

    /// <summary>The signature to mirror: the generic definition for generic methods, else the method as called.</summary>
    private static IMethodSymbol Definition(IMethodSymbol method) =>
        method.IsGenericMethod ? method.ConstructedFrom : method;

    private static bool IsDirectlyCallable(Compilation compilation, IMethodSymbol method) =>
        method.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal
        && compilation.IsSymbolAccessibleWithin(method.ContainingType, compilation.Assembly);

    private static bool IsAccessible(Compilation compilation, ITypeSymbol type) => type switch
    {
        ITypeParameterSymbol => true,
        IArrayTypeSymbol array => IsAccessible(compilation, array.ElementType),
        INamedTypeSymbol named => compilation.IsSymbolAccessibleWithin(named, compilation.Assembly)
            && named.TypeArguments.All(t => IsAccessible(compilation, t)),
        _ => compilation.IsSymbolAccessibleWithin(type, compilation.Assembly),
    };

    private static bool ContainsTypeParameter(ITypeSymbol type) => type switch
    {
        ITypeParameterSymbol => true,
        IArrayTypeSymbol array => ContainsTypeParameter(array.ElementType),
        INamedTypeSymbol named => named.TypeArguments.Any(ContainsTypeParameter)
            || (named.ContainingType is { } outer && ContainsTypeParameter(outer)),
        _ => false,
    };

    private static bool UsesObliviousTypes(IMethodSymbol method)
    {
        static bool Oblivious(ITypeSymbol type) => type.IsReferenceType && type.NullableAnnotation == NullableAnnotation.None;
        return (!method.ReturnsVoid && Oblivious(method.ReturnType)) || method.Parameters.Any(p => Oblivious(p.Type));
    }

    private static ResultKind Classify(ITypeSymbol type)
    {
        if (type.SpecialType == SpecialType.System_Void)
        {
            return ResultKind.Void;
        }

        if (type is not INamedTypeSymbol named)
        {
            return ResultKind.Value;
        }

        var name = named.OriginalDefinition.ToDisplayString();
        return name switch
        {
            "System.Threading.Tasks.Task" => ResultKind.Task,
            "System.Threading.Tasks.Task<TResult>" => ResultKind.TaskOfT,
            "System.Threading.Tasks.ValueTask" => ResultKind.ValueTask,
            "System.Threading.Tasks.ValueTask<TResult>" => ResultKind.ValueTaskOfT,
            "System.Collections.Generic.IAsyncEnumerable<T>" => ResultKind.AsyncEnumerable,
            _ => ResultKind.Value,
        };
    }

    /// <summary>Whether an argument goes into the input: not outputs, ref structs, pointers, or framework plumbing.</summary>
    private static bool IsCaptured(IParameterSymbol parameter)
    {
        if (parameter.RefKind == RefKind.Out || parameter.Type.IsRefLikeType || parameter.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol)
        {
            return false;
        }

        var type = parameter.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
            ? nullable.TypeArguments[0]
            : parameter.Type;
        return !IsPlumbing(type);
    }

    private static readonly HashSet<string> PlumbingTypes = new(System.StringComparer.Ordinal)
    {
        "System.Threading.CancellationToken",
        "System.Threading.CancellationTokenSource",
        "System.IServiceProvider",
        "Microsoft.Extensions.Logging.ILogger",
        "Microsoft.Extensions.Logging.ILogger<TCategoryName>",
        "Microsoft.Extensions.Logging.ILoggerFactory",
        "Microsoft.AspNetCore.Http.HttpContext",
        "Langfuse.Agents.LangfuseTracer",
        "Langfuse.Agents.LangfuseObservation",
    };

    private static bool IsPlumbing(ITypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (PlumbingTypes.Contains(current.OriginalDefinition.ToDisplayString()))
            {
                return true;
            }
        }

        return type.AllInterfaces.Any(i => PlumbingTypes.Contains(i.OriginalDefinition.ToDisplayString()));
    }

    private static string Constraints(IEnumerable<ITypeParameterSymbol> typeParameters)
    {
        var text = new StringBuilder();
        foreach (var parameter in typeParameters)
        {
            var parts = new List<string>();
            if (parameter.HasReferenceTypeConstraint)
            {
                parts.Add(parameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
            }
            else if (parameter.HasUnmanagedTypeConstraint)
            {
                parts.Add("unmanaged");
            }
            else if (parameter.HasValueTypeConstraint)
            {
                parts.Add("struct");
            }
            else if (parameter.HasNotNullConstraint)
            {
                parts.Add("notnull");
            }

            parts.AddRange(parameter.ConstraintTypes.Select(Display));
            if (parameter.HasConstructorConstraint)
            {
                parts.Add("new()");
            }

            if (parameter.AllowsRefLikeType)
            {
                parts.Add("allows ref struct");
            }

            if (parts.Count > 0)
            {
                text.Append(" where ").Append(parameter.Name).Append(" : ").Append(string.Join(", ", parts));
            }
        }

        return text.ToString();
    }

    private static string Display(ITypeSymbol type) => type.ToDisplayString(TypeFormat);

    private static string AssemblyQualifiedName(INamedTypeSymbol type)
    {
        var name = new StringBuilder(type.MetadataName);
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            name.Insert(0, outer.MetadataName + "+");
        }

        if (type.ContainingNamespace is { IsGlobalNamespace: false } ns)
        {
            name.Insert(0, ns.ToDisplayString() + ".");
        }

        return name + ", " + type.ContainingAssembly.Name;
    }

    private static string RefKindPrefix(RefKind kind) => kind switch
    {
        RefKind.Ref => "ref ",
        RefKind.Out => "out ",
        RefKind.In => "in ",
        RefKind.RefReadOnlyParameter => "ref readonly ",
        _ => string.Empty,
    };

    private static string ArgumentPrefix(RefKind kind) => kind switch
    {
        RefKind.Ref => "ref ",
        RefKind.Out => "out ",
        RefKind.In or RefKind.RefReadOnlyParameter => "in ",
        _ => string.Empty,
    };

    private static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static string Literal(string text) => SymbolDisplay.FormatLiteral(text, quote: true);
}
