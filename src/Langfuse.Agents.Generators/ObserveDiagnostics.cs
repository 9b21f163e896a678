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
}
