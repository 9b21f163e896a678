using Microsoft.CodeAnalysis;

namespace Langfuse.Agents.Generators;

/// <summary>The warnings the generator reports for uses of an [Observe] method that it cannot trace.</summary>
internal static class ObserveDiagnostics
{
    private const string Category = "Langfuse.Agents.Observe";

    public static readonly DiagnosticDescriptor MethodGroup = new(
        id: "LFA001",
        title: "[Observe] method used as a delegate is not traced",
        messageFormat: "'{0}' has [Observe], but calls through this delegate are not traced: [Observe] traces direct calls only. Call the method directly (for example in a lambda: () => {1}(...)) or start an observation with LangfuseTracer where it runs.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor Unsupported = new(
        id: "LFA002",
        title: "[Observe] call that cannot be traced",
        messageFormat: "'{0}' has [Observe], but this call is not traced: {1}. Start an observation with LangfuseTracer around it instead.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    // Reported on the declaration, once: interceptors can only replace calls to ordinary methods declared in a type
    // (the compiler rejects any other target with CS9207), so the attribute there would silently do nothing.
    public static readonly DiagnosticDescriptor UnsupportedDeclaration = new(
        id: "LFA003",
        title: "[Observe] on a function that cannot be traced",
        messageFormat: "'{0}' has [Observe], but {1} cannot be traced: [Observe] works by C# interceptors, which only replace calls to methods declared in a class, struct or interface. {2}.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    // Reported once per project: generated interceptors would not compile there, so none are generated.
    public static readonly DiagnosticDescriptor ProjectNotSupported = new(
        id: "LFA004",
        title: "[Observe] is not enabled in this project",
        messageFormat: "[Observe] calls in this project are not traced: {0}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static DiagnosticDescriptor ById(string id) => id switch
    {
        "LFA001" => MethodGroup,
        "LFA002" => Unsupported,
        "LFA003" => UnsupportedDeclaration,
        _ => ProjectNotSupported,
    };
}
