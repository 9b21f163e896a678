namespace Langfuse.Agents.Internal.Http;

/// <summary>A response body was longer than the reader allows.</summary>
internal sealed class BodyTooLargeException(long limit) : IOException($"The response body is longer than {limit} bytes.")
{
}
