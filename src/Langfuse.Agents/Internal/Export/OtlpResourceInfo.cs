namespace Langfuse.Agents.Internal.Export;

/// <summary>What the OTLP encoder writes once per request as the resource and the instrumentation scope.</summary>
internal sealed class OtlpResourceInfo
{
    /// <param name="serviceName"><c>service.name</c>.</param>
    /// <param name="serviceInstanceId"><c>service.instance.id</c>; left out when null.</param>
    /// <param name="sdkVersion"><c>telemetry.sdk.version</c> and the scope version.</param>
    /// <param name="attributes">More resource attributes; see <see cref="Attributes"/>.</param>
    public OtlpResourceInfo(string serviceName, string? serviceInstanceId, string sdkVersion, IReadOnlyList<KeyValuePair<string, string>>? attributes = null)
    {
        ArgumentNullException.ThrowIfNull(serviceName);
        ArgumentNullException.ThrowIfNull(sdkVersion);
        ServiceName = serviceName;
        ServiceInstanceId = serviceInstanceId;
        SdkVersion = sdkVersion;
        Attributes = attributes;
    }

    /// <summary><c>service.name</c>.</summary>
    public string ServiceName { get; }

    /// <summary><c>service.instance.id</c>; left out when null.</summary>
    public string? ServiceInstanceId { get; }

    /// <summary><c>telemetry.sdk.version</c> and the scope version.</summary>
    public string SdkVersion { get; }

    /// <summary>
    /// More resource attributes (for example from <c>OTEL_RESOURCE_ATTRIBUTES</c>), written as strings after the
    /// standard ones. An entry whose key is one of the standard keys is ignored: the SDK's values win.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Attributes { get; }
}
