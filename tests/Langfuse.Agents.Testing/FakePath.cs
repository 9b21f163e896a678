namespace Langfuse.Agents.Testing;

/// <summary>Endpoints a planned fault can be restricted to. Values combine as flags.</summary>
[Flags]
public enum FakePath
{
    /// <summary><c>POST /api/public/otel/v1/traces</c>.</summary>
    Otlp = 1,

    /// <summary><c>POST /api/public/ingestion</c>.</summary>
    Ingestion = 2,

    /// <summary><c>GET /api/public/health</c>.</summary>
    Health = 4,

    /// <summary><c>GET /api/public/projects</c> (the SDKs' credential check).</summary>
    Projects = 8,

    /// <summary>Both data paths (<see cref="Otlp"/> and <see cref="Ingestion"/>); the default for faults.</summary>
    Export = Otlp | Ingestion,

    /// <summary>Every path, including unknown ones.</summary>
    Any = Otlp | Ingestion | Health | Projects | 16,
}
