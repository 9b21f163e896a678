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
        var definition = Definition(method);
        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            return "methods returning by reference are not supported";
        }

        // A type parameter that allows ref structs is fine (its value is passed through, not recorded); a ref struct
        // itself would have to outlive the observation's bookkeeping.
        if (definition.ReturnType.IsRefLikeType)
        {
            return "methods returning a ref struct are not supported";
        }

        if (method.IsVararg)
        {
            return "methods with __arglist are not supported";
        }

        var containing = method.ContainingType;
        if (containing.TypeKind is not (TypeKind.Class or TypeKind.Struct or TypeKind.Interface))
        {
            return "members of C# 14 extension blocks are not supported; declare it as a classic extension method (a static method with a 'this' parameter)";
        }

        if (method.IsStatic && (method.IsAbstract || method.IsVirtual) && containing.TypeKind == TypeKind.Interface)
        {
            return "static abstract and static virtual interface members are called through a type parameter, which generated code cannot name";
        }

        if (ContainsTypeParameter(containing))
        {
            return "calls to a method of an open generic type are not supported";
        }

        if (!compilation.IsSymbolAccessibleWithin(containing, compilation.Assembly))
        {
            return "its type is not accessible from generated code (a private or protected nested type)";
        }

        if (!IsNameable(containing))
        {
            return "its type cannot be named from generated code (a file-local type, or a generic type over an anonymous type)";
        }

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

            if (!IsNameable(type))
            {
                return "a type in its signature cannot be named from generated code (a file-local or anonymous type)";
            }
        }

        if (!IsDirectlyCallable(compilation, method))
        {
            if (method.IsExtern || containing.TypeKind == TypeKind.Interface)
            {
                return "non-public extern methods and interface members cannot be reached from generated code";
            }

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

        // The receiver is passed the way the method receives 'this': by ref for a struct, by 'in' for a readonly
        // member or readonly struct (the compiler checks the interceptor's 'this' against it).
        var receiverKind = !method.ContainingType.IsValueType ? RefKind.None
            : definition.IsReadOnly || method.ContainingType.IsReadOnly ? RefKind.In
            : RefKind.Ref;
        var selfType = RefKindPrefix(receiverKind) + containing;

        // Generated names must not collide with the method's own parameter names.
        var taken = new HashSet<string>(definition.Parameters.Select(p => p.Name), System.StringComparer.Ordinal);
        string Fresh(string name)
        {
            while (taken.Contains(name))
            {
                name += "_";
            }

            taken.Add(name);
            return name;
        }

        var self = Fresh("__self");
        var typeArg = Fresh("__type");
        var lf = Fresh("__lf");
        var prev = Fresh("__prev");
        var result = Fresh("__result");
        var error = Fresh("__e");

        // Interceptor parameters: the receiver first (as an extension-style 'this'), then the method's own.
        var parameters = new List<string>();
        if (instance)
        {
            parameters.Add("this " + selfType + " " + self);
        }

        for (var i = 0; i < definition.Parameters.Length; i++)
        {
            var parameter = definition.Parameters[i];
            parameters.Add((isExtension && i == 0 ? "this " : string.Empty) + ParameterDeclaration(parameter));
        }

        var arguments = string.Join(", ", definition.Parameters.Select(p => ArgumentPrefix(p.RefKind) + Identifier(p.Name)));
        string call;
        var accessor = new StringBuilder();
        if (direct)
        {
            call = instance
                ? self + "." + Identifier(method.Name) + typeParameters + "(" + arguments + ")"
                : containing + "." + Identifier(method.Name) + typeParameters + "(" + arguments + ")";
        }
        else
        {
            // Not accessible from here: call it through UnsafeAccessor (no reflection, AOT-safe).
            var accessorParameters = new List<string>();
            string receiver;
            if (instance)
            {
                // UnsafeAccessor takes a struct's 'this' by ref, also for readonly members.
                accessorParameters.Add((method.ContainingType.IsValueType ? "ref " : string.Empty) + containing + " " + self);
                receiver = receiverKind switch
                {
                    RefKind.Ref => "ref " + self,
                    RefKind.None => self,
                    _ => "ref global::System.Runtime.CompilerServices.Unsafe.AsRef(in " + self + ")",
                };
            }
            else if (method.ContainingType.IsStatic)
            {
                accessorParameters.Add("[global::System.Runtime.CompilerServices.UnsafeAccessorType(" + Literal(AssemblyQualifiedName(method.ContainingType)) + ")] " + obj + " " + typeArg);
                receiver = "null";
            }
            else
            {
                accessorParameters.Add(containing + (nullable && !method.ContainingType.IsValueType ? "?" : string.Empty) + " " + typeArg);
                receiver = "default";
            }

            accessorParameters.AddRange(definition.Parameters.Select(ParameterDeclaration));
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
        body.Append("            var ").Append(lf).Append(" = ").Append(Runtime).Append(".Start(").Append(Literal(settings.Name)).Append(", ").Append(type)
            .AppendLine(async ? ", out var " + prev + ");" : ");");

        var inputs = definition.Parameters.Where(IsCaptured).ToList();
        if (settings.CaptureInput && inputs.Count > 0)
        {
            body.Append("            if (").Append(lf).Append(" is not null && ").Append(Runtime).AppendLine(".CaptureEnabled)");
            body.AppendLine("            {");
            body.Append("                ").Append(Runtime).Append(".SetInput(").Append(lf).Append(", new global::System.Collections.Generic.Dictionary<string, ").Append(obj).Append(">(")
                .Append(inputs.Count.ToString(CultureInfo.InvariantCulture)).Append(") { ")
                .Append(string.Join(", ", inputs.Select(p => "[" + Literal(p.Name) + "] = " + Identifier(p.Name))))
                .AppendLine(" });");
            body.AppendLine("            }");
        }

        var captureOutput = settings.CaptureOutput ? "true" : "false";
        var names = new Names(lf, prev, error);
        switch (kind)
        {
            case ResultKind.Void:
                WriteTry(body, call + ";", async: false, names);
                body.Append("            ").Append(Runtime).Append(".End(").Append(lf).AppendLine(");");
                break;
            case ResultKind.Value:
                // A value of a type parameter that allows ref structs cannot be boxed into the output.
                var recordable = settings.CaptureOutput && !IsRefLike(definition.ReturnType);
                body.Append("            ").Append(returnType).Append(' ').Append(result).AppendLine(";");
                WriteTry(body, result + " = " + call + ";", async: false, names);
                body.Append("            ").Append(Runtime).AppendLine(recordable ? ".Complete(" + lf + ", " + result + ");" : ".End(" + lf + ");");
                body.Append("            return ").Append(result).AppendLine(";");
                break;
            default:
                body.Append("            ").Append(returnType).Append(' ').Append(result).AppendLine(";");
                WriteTry(body, result + " = " + call + ";", async: true, names);
                var arguments2 = lf + ", " + result;
                var complete = kind switch
                {
                    ResultKind.Task => ".CompleteTask(" + arguments2 + ")",
                    ResultKind.TaskOfT => ".CompleteTask(" + arguments2 + ", " + captureOutput + ")",
                    ResultKind.ValueTask => ".CompleteValueTask(" + arguments2 + ")",
                    ResultKind.ValueTaskOfT => ".CompleteValueTask(" + arguments2 + ", " + captureOutput + ")",
                    _ => ".CompleteStream(" + arguments2 + ", " + captureOutput + ")",
                };
                body.Append("            return ").Append(Runtime).Append(complete).AppendLine(";");
                break;
        }

        // The interceptor only passes the method's own values through, so the method's nullable attributes
        // ([return: MaybeNull], [AllowNull], ...) speak for it at the call site; flow warnings inside it would be
        // about the plumbing, never about the user's code. The annotations stay on, so the signature matches.
        var code = new StringBuilder();
        code.AppendLine(nullable ? "#nullable enable annotations" : "#nullable disable");
        if (nullable)
        {
            code.AppendLine("#nullable disable warnings");
        }

        // [Experimental] APIs in the method or its signature: the user opted in at the call; the generated call is theirs too.
        var experimental = ExperimentalIds(method).ToList();
        foreach (var id in experimental)
        {
            code.Append("#pragma warning disable ").AppendLine(id);
        }

        // [Obsolete] ones: an obsolete interceptor may use them without CS0618/CS0619 (an error cannot be pragma'd away).
        var obsolete = IsObsoleteUse(method) ? "        [global::System.Obsolete(\"Calls an obsolete [Observe] method.\")]\n" : string.Empty;
        if (accessor.Length > 0)
        {
            code.Append(obsolete);
        }

        code.Append(accessor);
        code.AppendLine("/*ATTRIBUTES*/");
        code.Append(obsolete);
        code.AppendLine("        [global::System.Diagnostics.DebuggerStepThrough]");
        code.AppendLine("        [global::System.Diagnostics.StackTraceHidden]");
        code.Append("        internal static ").Append(returnType).Append(" __NAME__").Append(typeParameters)
            .Append('(').Append(string.Join(", ", parameters)).Append(')').AppendLine(constraints);
        code.AppendLine("        {");
        code.Append(body);
        code.AppendLine("        }");
        foreach (var id in experimental)
        {
            code.Append("#pragma warning restore ").AppendLine(id);
        }

        return code.ToString();
    }

    private sealed record Names(string Observation, string Previous, string Error);

    private static void WriteTry(StringBuilder body, string statement, bool async, Names names)
    {
        body.AppendLine("            try");
        body.AppendLine("            {");
        body.Append("                ").AppendLine(statement);
        body.AppendLine("            }");
        body.Append("            catch (global::System.Exception ").Append(names.Error).AppendLine(")");
        body.AppendLine("            {");
        body.Append("                ").Append(Runtime).Append(".Fail(").Append(names.Observation).Append(", ").Append(names.Error).AppendLine(");");
        body.AppendLine("                throw;");
        body.AppendLine("            }");
        if (async)
        {
            // The task or stream goes on without the caller: hand the caller its own current observation back.
            body.AppendLine("            finally");
            body.AppendLine("            {");
            body.Append("                ").Append(Runtime).Append(".Restore(").Append(names.Observation).Append(", ").Append(names.Previous).AppendLine(");");
            body.AppendLine("            }");
        }
    }

    /// <summary>How a parameter is declared: its ref kind, its 'scoped' (explicit or implied, as for params spans) and its type.</summary>
    private static string ParameterDeclaration(IParameterSymbol parameter)
    {
        // 'out' is scoped by default, everything else unscoped; the compiler requires the interceptor to match.
        var prefix = parameter.ScopedKind switch
        {
            ScopedKind.ScopedValue => "scoped ",
            ScopedKind.ScopedRef when parameter.RefKind != RefKind.Out => "scoped ",
            ScopedKind.None when parameter.RefKind == RefKind.Out => "[global::System.Diagnostics.CodeAnalysis.UnscopedRef] ",
            _ => string.Empty,
        };
        return prefix + RefKindPrefix(parameter.RefKind) + Display(parameter.Type) + " " + Identifier(parameter.Name);
    }

    private static bool IsRefLike(ITypeSymbol type) =>
        type.IsRefLikeType || type is ITypeParameterSymbol { AllowsRefLikeType: true };

    /// <summary>The method, its containing types and the types of its signature: what the generated code names.</summary>
    private static IEnumerable<ISymbol> NamedBy(IMethodSymbol method)
    {
        var definition = Definition(method);
        yield return definition;
        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            yield return type;
        }

        foreach (var type in new[] { definition.ReturnType }.Concat(definition.Parameters.Select(p => p.Type)).SelectMany(Parts))
        {
            yield return type;
        }
    }

    private static IEnumerable<ITypeSymbol> Parts(ITypeSymbol type)
    {
        yield return type;
        var inner = type switch
        {
            IArrayTypeSymbol array => new[] { array.ElementType },
            INamedTypeSymbol named => named.TypeArguments.ToArray(),
            _ => System.Array.Empty<ITypeSymbol>(),
        };
        foreach (var part in inner.SelectMany(Parts))
        {
            yield return part;
        }

        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            yield return outer;
        }
    }

    private static bool IsObsoleteUse(IMethodSymbol method) =>
        NamedBy(method).Any(symbol => symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.ObsoleteAttribute"));

    private static IEnumerable<string> ExperimentalIds(IMethodSymbol method) =>
        NamedBy(method)
            .SelectMany(symbol => symbol.GetAttributes())
            .Where(a => a.AttributeClass?.ToDisplayString() == "System.Diagnostics.CodeAnalysis.ExperimentalAttribute")
            .Select(a => a.ConstructorArguments.Length > 0 ? a.ConstructorArguments[0].Value as string : null)
            .Where(id => id is { Length: > 0 } && id.All(c => char.IsLetterOrDigit(c) || c == '_'))
            .Select(id => id!)
            .Distinct(System.StringComparer.Ordinal);

    /// <summary>Whether generated code can spell the type: no file-local or anonymous types anywhere in it.</summary>
    private static bool IsNameable(ITypeSymbol type) =>
        !Parts(type).Any(part => part.IsAnonymousType || part is INamedTypeSymbol { IsFileLocal: true });

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
        if (parameter.RefKind == RefKind.Out || IsRefLike(parameter.Type) || parameter.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol)
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
