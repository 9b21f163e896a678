using System.Diagnostics.CodeAnalysis;
using System.Text;
using Langfuse.Agents.Internal;

namespace Langfuse.Agents;

/// <summary>
/// The part of a trace that crosses a process boundary: the W3C <c>traceparent</c> (trace id, parent span id,
/// sampled flag) and, when the caller chose to send it, the session and user ids carried in W3C <c>baggage</c>.
/// </summary>
/// <remarks>
/// The outgoing side is <see cref="LangfusePropagationHandler"/>; the incoming side is
/// <see cref="LangfuseTracer.ContinueTrace(LangfuseTraceContext)"/> (used by <c>app.UseLangfuseTraceContext()</c>
/// in <c>Langfuse.Agents.AspNetCore</c>). Baggage keys are <c>langfuse_session_id</c> and <c>langfuse_user_id</c>,
/// the names Langfuse's Python SDK propagates; <c>session.id</c> and <c>user.id</c> are read too.
/// </remarks>
public readonly record struct LangfuseTraceContext
{
    /// <summary>The W3C header carrying trace id, parent id and flags.</summary>
    public const string TraceparentHeader = "traceparent";

    /// <summary>The W3C header carrying key-value pairs across services.</summary>
    public const string BaggageHeader = "baggage";

    /// <summary>The baggage key for the session id.</summary>
    public const string SessionBaggageKey = "langfuse_session_id";

    /// <summary>The baggage key for the user id.</summary>
    public const string UserBaggageKey = "langfuse_user_id";

    // W3C Baggage limits: 8192 bytes per header; values beyond that are not worth sending.
    private const int MaxBaggageLength = 8192;

    internal LangfuseTraceContext(ulong traceIdHigh, ulong traceIdLow, ulong parentSpanId, bool isSampled, string? sessionId, string? userId)
    {
        TraceIdHigh = traceIdHigh;
        TraceIdLow = traceIdLow;
        ParentSpanId = parentSpanId;
        IsSampled = isSampled;
        SessionId = sessionId;
        UserId = userId;
    }

    /// <summary>True when this context holds a trace id and a parent id (<see langword="default"/> does not).</summary>
    public bool IsValid => (TraceIdHigh | TraceIdLow) != 0 && ParentSpanId != 0;

    /// <summary>The W3C trace id: 32 lowercase hex characters.</summary>
    public string TraceId => Ids.TraceIdToHex(TraceIdHigh, TraceIdLow);

    /// <summary>The caller's span id (the parent of what continues the trace): 16 lowercase hex characters.</summary>
    public string ParentId => Ids.SpanIdToHex(ParentSpanId);

    /// <summary>The caller's sampling decision (the W3C <c>sampled</c> flag); it wins over the local sampler.</summary>
    public bool IsSampled { get; }

    /// <summary>The session id carried in baggage, if any.</summary>
    public string? SessionId { get; init; }

    /// <summary>The user id carried in baggage, if any.</summary>
    public string? UserId { get; init; }

    internal ulong TraceIdHigh { get; }

    internal ulong TraceIdLow { get; }

    internal ulong ParentSpanId { get; }

    /// <summary>The context that continues <paramref name="observation"/>'s trace under it, with its session and user.</summary>
    /// <param name="observation">The observation that becomes the remote parent.</param>
    /// <returns>The context.</returns>
    public static LangfuseTraceContext FromObservation(LangfuseObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var trace = observation.TraceIfCreated;
        return new LangfuseTraceContext(
            observation.TraceIdHigh, observation.TraceIdLow, observation.SpanId, observation.IsSampled, trace?.SessionId, trace?.UserId);
    }

    /// <summary>
    /// Reads a <c>traceparent</c> header (version 00, or a later version read as 00 as the W3C spec asks) and,
    /// when given, a <c>baggage</c> header. Invalid input gives <see langword="false"/>, never an exception.
    /// </summary>
    /// <param name="traceparent">The <c>traceparent</c> header value.</param>
    /// <param name="baggage">The <c>baggage</c> header value, or <see langword="null"/> to ignore baggage.</param>
    /// <param name="context">The context read, when the result is true.</param>
    /// <returns>True when <paramref name="traceparent"/> is valid.</returns>
    public static bool TryParse(string? traceparent, string? baggage, out LangfuseTraceContext context)
    {
        context = default;
        if (traceparent is null)
        {
            return false;
        }

        var value = traceparent.AsSpan().Trim();
        // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
        if (value.Length < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-'
            || !IsHex(value[..2]) || value[..2].SequenceEqual("ff")
            || (value[..2].SequenceEqual("00") ? value.Length != 55 : value.Length > 55 && value[55] != '-')
            || !Ids.TryParseTraceId(value[3..35], out var high, out var low) || !IsLowerHex(value[3..35])
            || !Ids.TryParseSpanId(value[36..52], out var parent) || !IsLowerHex(value[36..52])
            || !IsHex(value[53..55]))
        {
            return false;
        }

        var flags = Convert.ToByte(value[53..55].ToString(), 16);
        string? sessionId = null, userId = null;
        if (!string.IsNullOrEmpty(baggage))
        {
            ReadBaggage(baggage, ref sessionId, ref userId);
        }

        context = new LangfuseTraceContext(high, low, parent, (flags & 1) != 0, sessionId, userId);
        return true;
    }

    /// <summary>Formats the <c>traceparent</c> header: <c>00-{trace id}-{parent id}-{01 sampled | 00}</c>.</summary>
    /// <returns>The header value, or an empty string for an invalid context.</returns>
    public string ToTraceparent()
    {
        if (!IsValid)
        {
            return string.Empty;
        }

        return string.Create(55, this, static (span, context) =>
        {
            "00-".AsSpan().CopyTo(span);
            Ids.WriteHex(span[3..19], context.TraceIdHigh);
            Ids.WriteHex(span[19..35], context.TraceIdLow);
            span[35] = '-';
            Ids.WriteHex(span[36..52], context.ParentSpanId);
            span[52] = '-';
            span[53] = '0';
            span[54] = context.IsSampled ? '1' : '0';
        });
    }

    /// <summary>
    /// Formats the session and user ids as W3C <c>baggage</c> members (values percent-encoded), or returns
    /// <see langword="null"/> when neither is set.
    /// </summary>
    /// <returns>The header value, or <see langword="null"/>.</returns>
    public string? ToBaggage()
    {
        if (string.IsNullOrEmpty(SessionId) && string.IsNullOrEmpty(UserId))
        {
            return null;
        }

        var builder = new StringBuilder();
        Append(builder, SessionBaggageKey, SessionId);
        Append(builder, UserBaggageKey, UserId);
        return builder.Length is > 0 and <= MaxBaggageLength ? builder.ToString() : null;

        static void Append(StringBuilder builder, string key, string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return;
            }

            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(key).Append('=').Append(Uri.EscapeDataString(value));
        }
    }

    /// <inheritdoc />
    public override string ToString() => ToTraceparent();

    private static void ReadBaggage(string baggage, ref string? sessionId, ref string? userId)
    {
        foreach (var member in baggage.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // key=value;property;property=value: properties are ignored.
            var pair = member.Split(';', 2)[0];
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var key = pair[..equals].Trim();
            if (!TryDecode(pair[(equals + 1)..].Trim(), out var value) || value.Length == 0)
            {
                continue;
            }

            switch (key)
            {
                case SessionBaggageKey:
                    sessionId = value;
                    break;
                case "session.id":
                    sessionId ??= value;
                    break;
                case UserBaggageKey:
                    userId = value;
                    break;
                case "user.id":
                    userId ??= value;
                    break;
            }
        }
    }

    private static bool TryDecode(string encoded, [NotNullWhen(true)] out string? value)
    {
        try
        {
            value = Uri.UnescapeDataString(encoded);
            return true;
        }
        catch (UriFormatException)
        {
            value = null;
            return false;
        }
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLowerHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
