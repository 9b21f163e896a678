namespace Langfuse.Agents.Testing;

/// <summary>Configuration of a <see cref="FakeLangfuseServer"/>.</summary>
public sealed class FakeLangfuseOptions
{
    /// <summary>The Langfuse batch endpoint limit: Next.js <c>"4.5mb"</c>, that is 4.5 × 1024 × 1024 bytes.</summary>
    public const long DefaultMaxIngestionBodyBytes = 4_718_592;

    /// <summary>Public key accepted in Basic auth. Default <c>pk-lf-test</c>.</summary>
    public string PublicKey { get; set; } = "pk-lf-test";

    /// <summary>Secret key accepted in Basic auth. Default <c>sk-lf-test</c>. Never logged or echoed.</summary>
    public string SecretKey { get; set; } = "sk-lf-test";

    /// <summary>Server generation to imitate. Default <see cref="FakeLangfuseVersion.V4"/>.</summary>
    public FakeLangfuseVersion Version { get; set; } = FakeLangfuseVersion.V4;

    /// <summary>Version string reported by <c>/api/public/health</c>; null picks one matching <see cref="Version"/>.</summary>
    public string? VersionString { get; set; }

    /// <summary>OTLP bodies (as sent on the wire) above this many bytes get 413. Default null: unlimited, like Langfuse.</summary>
    public long? MaxOtlpBodyBytes { get; set; }

    /// <summary>Batch bodies (as sent on the wire) above this many bytes get 413 <c>Body exceeded 4.5mb limit</c>.</summary>
    public long MaxIngestionBodyBytes { get; set; } = DefaultMaxIngestionBodyBytes;

    /// <summary>
    /// Accept OTLP/JSON ids that are not hex strings and keep them verbatim, as Langfuse's OTLP processor does (it
    /// hex-encodes only binary ids; the relay's translation of legacy batch events relies on it to keep their ids).
    /// Off by default: the fake then insists on hex ids, as the OTLP specification does.
    /// </summary>
    public bool AcceptStringIds { get; set; }
}
