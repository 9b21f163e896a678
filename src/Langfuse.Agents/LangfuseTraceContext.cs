using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Langfuse.Agents.Internal;

namespace Langfuse.Agents;

/// <summary>
/// The part of a trace that crosses a process boundary: the W3C <c>traceparent</c> (trace id, parent span id,
/// sampled flag) and, when the caller chose to send it, the trace's attributes carried in W3C <c>baggage</c>:
/// session, user, trace name, tags, version, release, environment and metadata.
/// </summary>
/// <remarks>
/// The outgoing side is <see cref="LangfusePropagationHandler"/>; the incoming side is
/// <see cref="LangfuseTracer.ContinueTrace(LangfuseTraceContext)"/> (used by <c>app.UseLangfuseTraceContext()</c>
/// in <c>Langfuse.Agents.AspNetCore</c>). Baggage keys are those of Langfuse's Python SDK
/// (<c>propagate_attributes(..., as_baggage=True)</c>): <c>langfuse_session_id</c>, <c>langfuse_user_id</c>,
/// <c>langfuse_trace_name</c>, <c>langfuse_tags</c>, <c>langfuse_version</c>, <c>langfuse_environment</c> and
/// <c>langfuse_metadata_{key}</c>, plus <c>langfuse_release</c> in the same scheme; <c>session.id</c> and
/// <c>user.id</c> are read too. As in the Python SDK, values over 200 characters are neither sent nor read.
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

    /// <summary>The baggage key for the trace name.</summary>
    public const string TraceNameBaggageKey = "langfuse_trace_name";

    /// <summary>The baggage key for the trace's tags (comma-separated).</summary>
    public const string TagsBaggageKey = "langfuse_tags";

    /// <summary>The baggage key for the trace's version.</summary>
    public const string VersionBaggageKey = "langfuse_version";

    /// <summary>The baggage key for the release.</summary>
    public const string ReleaseBaggageKey = "langfuse_release";

    /// <summary>The baggage key for the environment.</summary>
    public const string EnvironmentBaggageKey = "langfuse_environment";

    /// <summary>The prefix of the baggage keys for trace metadata entries (<c>langfuse_metadata_{key}</c>).</summary>
    public const string MetadataBaggagePrefix = "langfuse_metadata_";

    /// <summary>The prefix every baggage key of Langfuse starts with.</summary>
    public const string BaggagePrefix = "langfuse_";

    /// <summary>The longest value propagated, as in Langfuse's Python SDK.</summary>
    public const int MaxBaggageValueLength = 200;

    // W3C Baggage limits: 8192 bytes and 64 members per header.
    private const int MaxBaggageLength = 8192;
    private const int MaxBaggageMembers = 64;

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

    /// <summary>The trace name carried in baggage, if any.</summary>
    public string? TraceName { get; init; }

    /// <summary>The trace's tags carried in baggage, if any.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>The trace's version carried in baggage, if any.</summary>
    public string? Version { get; init; }

    /// <summary>The release carried in baggage, if any.</summary>
    public string? Release { get; init; }

    /// <summary>The environment carried in baggage, if any (only a value Langfuse accepts).</summary>
    public string? Environment { get; init; }

    /// <summary>Trace metadata carried in baggage (text, numbers and booleans, as text), if any.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    internal ulong TraceIdHigh { get; }

    internal ulong TraceIdLow { get; }

    internal ulong ParentSpanId { get; }

    /// <summary>The context that continues <paramref name="observation"/>'s trace under it, with the trace's attributes.</summary>
    /// <param name="observation">The observation that becomes the remote parent.</param>
    /// <returns>The context.</returns>
    /// <remarks>
    /// Trace metadata travels only as text, numbers and booleans of at most 200 characters; in privacy mode only numbers
    /// and booleans, since text may be the user's.
    /// </remarks>
    public static LangfuseTraceContext FromObservation(LangfuseObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var trace = observation.TraceIfCreated;
        var context = new LangfuseTraceContext(
            observation.TraceIdHigh, observation.TraceIdLow, observation.SpanId, observation.IsSampled, trace?.SessionId, trace?.UserId);
        if (trace is null)
        {
            return context;
        }

        Dictionary<string, string>? metadata = null;
        foreach (var (key, value) in trace.MetadataSnapshot)
        {
            var text = value switch
            {
                string s when !observation.Tracer.PrivacyMode => s,
                bool b => b ? "true" : "false",
                sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal =>
                    Convert.ToString(value, CultureInfo.InvariantCulture),
                _ => null,
            };
            if (text is not null)
            {
                (metadata ??= new Dictionary<string, string>(StringComparer.Ordinal))[key] = text;
            }
        }

        return context with
        {
            TraceName = trace.Name,
            Tags = trace.TagsSnapshot is { Length: > 0 } tags ? tags : null,
            Version = trace.Version,
            Release = trace.Release,
            Environment = trace.Environment,
            Metadata = metadata,
        };
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
        context = new LangfuseTraceContext(high, low, parent, (flags & 1) != 0, null, null);
        if (!string.IsNullOrEmpty(baggage))
        {
            context = ReadBaggage(baggage, context);
        }

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
    /// Formats the trace's attributes as W3C <c>baggage</c> members (values percent-encoded; values over 200 characters
    /// left out, and members beyond the W3C limits of 8,192 bytes and 64 members dropped), or returns
    /// <see langword="null"/> when there is none.
    /// </summary>
    /// <returns>The header value, or <see langword="null"/>.</returns>
    public string? ToBaggage()
    {
        var builder = new StringBuilder();
        var members = 0;
        Append(SessionBaggageKey, SessionId);
        Append(UserBaggageKey, UserId);
        Append(TraceNameBaggageKey, TraceName);

        // A tag holding a comma cannot travel in a comma-separated list; it stays out rather than split in two.
        Append(TagsBaggageKey, Tags is { Count: > 0 } tags ? string.Join(',', tags.Where(static t => !t.Contains(',', StringComparison.Ordinal))) : null);
        Append(VersionBaggageKey, Version);
        Append(ReleaseBaggageKey, Release);
        Append(EnvironmentBaggageKey, Environment);
        if (Metadata is not null)
        {
            foreach (var (key, value) in Metadata.OrderBy(static kv => kv.Key, StringComparer.Ordinal))
            {
                if (IsToken(key))
                {
                    Append(MetadataBaggagePrefix + key, value);
                }
            }
        }

        return builder.Length > 0 ? builder.ToString() : null;

        void Append(string key, string? value)
        {
            if (string.IsNullOrEmpty(value) || value.Length > MaxBaggageValueLength || members >= MaxBaggageMembers)
            {
                return;
            }

            var member = key + "=" + Uri.EscapeDataString(value);
            if (builder.Length + (builder.Length > 0 ? 1 : 0) + member.Length > MaxBaggageLength)
            {
                return;
            }

            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(member);
            members++;
        }
    }

    /// <inheritdoc />
    public override string ToString() => ToTraceparent();

    /// <summary>Reads the members this SDK knows from a baggage header; anything else, and anything malformed, is ignored.</summary>
    private static LangfuseTraceContext ReadBaggage(string baggage, LangfuseTraceContext context)
    {
        string? sessionId = null, legacySessionId = null, userId = null, legacyUserId = null;
        Dictionary<string, string>? metadata = null;
        var members = 0;
        foreach (var member in baggage.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (++members > MaxBaggageMembers)
            {
                break;
            }

            // key=value;property;property=value: properties are ignored.
            var pair = member.Split(';', 2)[0];
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var key = pair[..equals].Trim();
            if (!TryDecode(pair[(equals + 1)..].Trim(), out var value) || value.Length > MaxBaggageValueLength)
            {
                continue;
            }

            if (key == TagsBaggageKey)
            {
                context = context with { Tags = ReadTags(value) };
                continue;
            }

            if (value.Length == 0)
            {
                continue;
            }

            switch (key)
            {
                case SessionBaggageKey: sessionId = value; break;
                case "session.id": legacySessionId ??= value; break;
                case UserBaggageKey: userId = value; break;
                case "user.id": legacyUserId ??= value; break;
                case TraceNameBaggageKey: context = context with { TraceName = value }; break;
                case VersionBaggageKey: context = context with { Version = value }; break;
                case ReleaseBaggageKey: context = context with { Release = value }; break;
                case EnvironmentBaggageKey when IsEnvironment(value): context = context with { Environment = value }; break;
                default:
                    if (key.StartsWith(MetadataBaggagePrefix, StringComparison.Ordinal) && key.Length > MetadataBaggagePrefix.Length)
                    {
                        (metadata ??= new Dictionary<string, string>(StringComparer.Ordinal))[key[MetadataBaggagePrefix.Length..]] = value;
                    }

                    break;
            }
        }

        return context with { SessionId = sessionId ?? legacySessionId, UserId = userId ?? legacyUserId, Metadata = metadata };
    }

    /// <summary>Tags as we send them (<c>a,b</c>), as a JSON array, or as Python's <c>str(list)</c> (<c>['a', 'b']</c>).</summary>
    private static string[] ReadTags(string value)
    {
        var text = value.Trim();
        if (text.StartsWith('[') && text.EndsWith(']'))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                return [.. json.RootElement.EnumerateArray().Where(static e => e.ValueKind == JsonValueKind.String).Select(static e => e.GetString()!).Where(static t => t.Length > 0)];
            }
            catch (JsonException)
            {
                text = text[1..^1]; // Python's repr: quoted items separated by commas
            }

            return [.. text.Split(',', StringSplitOptions.TrimEntries).Select(static t => t.Trim('\'', '"')).Where(static t => t.Length > 0)];
        }

        return [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>What Langfuse accepts as an environment: <c>^[a-z0-9-_]+$</c>, at most 40 characters, not <c>langfuse*</c>.</summary>
    private static bool IsEnvironment(string value) =>
        value.Length <= 40
        && !value.StartsWith("langfuse", StringComparison.Ordinal)
        && value.All(static c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');

    /// <summary>An HTTP token (RFC 9110 tchar): what a baggage key may hold.</summary>
    private static bool IsToken(string key) =>
        key.Length > 0 && key.All(static c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

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
