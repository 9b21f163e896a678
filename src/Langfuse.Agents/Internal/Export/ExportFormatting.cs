using System.Globalization;

namespace Langfuse.Agents.Internal.Export;

/// <summary>Names and time formats shared by the OTLP and batch encoders.</summary>
internal static class ExportFormatting
{
    /// <summary>The SDK name sent in batch metadata and as <c>telemetry.sdk.name</c>.</summary>
    public const string SdkName = "langfuse-agents-dotnet";

    /// <summary>Characters of a timestamp in <see cref="TryFormatTimestamp"/>'s format.</summary>
    public const int TimestampLength = 24;

    private const long UnixEpochTicks = 621_355_968_000_000_000L;

    /// <summary>The value of <c>langfuse.observation.type</c>.</summary>
    public static string ObservationTypeName(ObservationType type) => type switch
    {
        ObservationType.Span => "span",
        ObservationType.Generation => "generation",
        ObservationType.Event => "event",
        ObservationType.Agent => "agent",
        ObservationType.Tool => "tool",
        ObservationType.Chain => "chain",
        ObservationType.Retriever => "retriever",
        ObservationType.Embedding => "embedding",
        ObservationType.Evaluator => "evaluator",
        ObservationType.Guardrail => "guardrail",
        _ => "span",
    };

    /// <summary>The batch event type that creates an observation of <paramref name="type"/>.</summary>
    public static string CreateEventType(ObservationType type) => type switch
    {
        ObservationType.Span => "span-create",
        ObservationType.Generation => "generation-create",
        ObservationType.Event => "event-create",
        ObservationType.Agent => "agent-create",
        ObservationType.Tool => "tool-create",
        ObservationType.Chain => "chain-create",
        ObservationType.Retriever => "retriever-create",
        ObservationType.Embedding => "embedding-create",
        ObservationType.Evaluator => "evaluator-create",
        ObservationType.Guardrail => "guardrail-create",
        _ => "span-create",
    };

    /// <summary>The wire name of a level, or null for <see cref="ObservationLevel.Default"/> (left out).</summary>
    public static string? LevelName(ObservationLevel level) => level switch
    {
        ObservationLevel.Debug => "DEBUG",
        ObservationLevel.Warning => "WARNING",
        ObservationLevel.Error => "ERROR",
        _ => null,
    };

    /// <summary>Nanoseconds since the Unix epoch (0 for earlier times).</summary>
    public static ulong ToUnixNanoseconds(DateTimeOffset value)
    {
        var ticks = value.UtcTicks - UnixEpochTicks;
        return ticks <= 0 ? 0 : (ulong)ticks * 100;
    }

    /// <summary>ISO 8601 in UTC with milliseconds and <c>Z</c> (<c>2026-11-21T05:38:59.631Z</c>), as the official SDKs send it.</summary>
    public static bool TryFormatTimestamp(DateTimeOffset value, Span<char> destination, out int written) =>
        value.UtcDateTime.TryFormat(destination, out written, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);
}
