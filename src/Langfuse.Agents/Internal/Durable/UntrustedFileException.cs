namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// A file or directory the queue refuses to use: a symbolic link, a FIFO or device, a directory where a file belongs,
/// or something owned by another user. An <see cref="IOException"/>, so callers that handle I/O failures handle it.
/// </summary>
internal sealed class UntrustedFileException : IOException
{
    public UntrustedFileException()
    {
        Reason = string.Empty;
    }

    public UntrustedFileException(string message)
        : base(message)
    {
        Reason = message;
    }

    public UntrustedFileException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    private UntrustedFileException(string path, string reason)
        : base($"{path} {reason}")
    {
        Reason = reason;
    }

    /// <summary>Why the file is refused, without the path (for example "is a symbolic link").</summary>
    public string Reason { get; }

    /// <summary>Refuses <paramref name="path"/> because it <paramref name="reason"/> ("is a FIFO, not a regular file").</summary>
    public static UntrustedFileException For(string path, string reason) => new(path, reason);
}
