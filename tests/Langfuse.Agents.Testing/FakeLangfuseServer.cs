using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Langfuse.Agents.Testing.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Testing;

/// <summary>
/// A Langfuse server on loopback (real Kestrel, real HTTP) that validates requests the way Langfuse does,
/// records what it accepts, and can be scripted to fail. Start it with <see cref="StartAsync"/>.
/// </summary>
public sealed class FakeLangfuseServer : IAsyncDisposable
{
    /// <summary>OTLP/HTTP traces path.</summary>
    public const string OtlpPath = "/api/public/otel/v1/traces";

    /// <summary>Batch ingestion path.</summary>
    public const string IngestionPath = "/api/public/ingestion";

    /// <summary>Health path.</summary>
    public const string HealthPath = "/api/public/health";

    /// <summary>Projects path (used by SDKs to check credentials).</summary>
    public const string ProjectsPath = "/api/public/projects";

    private static readonly TimeSpan DefaultWaitTimeout = LoadedMachine.HangGuard;

    private readonly FakeLangfuseOptions _options;
    private readonly Lock _lock = new();
    private readonly List<ReceivedSpan> _spans = [];
    private readonly List<ReceivedEvent> _events = [];
    private readonly List<ReceivedRequest> _requests = [];
    private readonly List<string> _violations = [];
    private readonly List<(FakePath Path, FakeResponse Response)> _planned = [];
    private readonly List<EventFailureRule> _eventFailures = [];
    private readonly CancellationTokenSource _stopping = new();
    private (FakePath Path, FakeResponse Response)? _failAll;
    private int _silentlyDropped;
    private int _openConnections;
    private FakeLangfuseVersion _version;
    private TaskCompletionSource _changed = NewSignal();
    private WebApplication? _app;
    private Uri? _baseUrl;

    private FakeLangfuseServer(FakeLangfuseOptions options)
    {
        _options = options;
        _version = options.Version;
    }

    /// <summary>Base address, such as <c>http://127.0.0.1:54321/</c>.</summary>
    public Uri BaseUrl => _baseUrl ?? throw new InvalidOperationException("The server is not started.");

    /// <summary>Full URL of the OTLP traces endpoint.</summary>
    public Uri OtlpEndpoint => new(BaseUrl, OtlpPath);

    /// <summary>Full URL of the batch ingestion endpoint.</summary>
    public Uri IngestionEndpoint => new(BaseUrl, IngestionPath);

    /// <summary>Public key the server accepts.</summary>
    public string PublicKey => _options.PublicKey;

    /// <summary>Secret key the server accepts.</summary>
    public string SecretKey => _options.SecretKey;

    /// <summary>Server generation imitated; can be changed while running (to simulate an upgrade).</summary>
    public FakeLangfuseVersion Version
    {
        get
        {
            lock (_lock)
            {
                return _version;
            }
        }

        set
        {
            lock (_lock)
            {
                _version = value;
            }
        }
    }

    /// <summary>Spans of accepted OTLP requests, in arrival order (a snapshot).</summary>
    public IReadOnlyList<ReceivedSpan> Spans => Snapshot(_spans);

    /// <summary>Accepted batch events (per-event 201 and not dropped), in arrival order (a snapshot).</summary>
    public IReadOnlyList<ReceivedEvent> IngestionEvents => Snapshot(_events);

    /// <summary>Every request received, with the status answered (a snapshot).</summary>
    public IReadOnlyList<ReceivedRequest> Requests => Snapshot(_requests);

    /// <summary>
    /// Things real Langfuse accepts but silently mangles (observation without traceId, invalid environment,
    /// bad <c>usage_details</c> attribute, ...). A well-behaved client leaves this empty.
    /// </summary>
    public IReadOnlyList<string> Violations => Snapshot(_violations);

    /// <summary><c>trace-create</c>/<c>score-create</c> events without <c>body.id</c>: answered 201, not recorded.</summary>
    public int SilentlyDropped
    {
        get
        {
            lock (_lock)
            {
                return _silentlyDropped;
            }
        }
    }

    /// <summary>
    /// Client connections open now. Zero after a client process was killed means every request it had sent was read,
    /// answered or dropped, and recorded: wait for it with <see cref="WaitUntilAsync"/>.
    /// </summary>
    public int OpenConnections
    {
        get
        {
            lock (_lock)
            {
                return _openConnections;
            }
        }
    }

    /// <summary>Planned responses not yet consumed.</summary>
    public int PendingResponses
    {
        get
        {
            lock (_lock)
            {
                return _planned.Count;
            }
        }
    }

    /// <summary>Starts a server on <c>http://127.0.0.1:0</c> (a free port).</summary>
    public static async Task<FakeLangfuseServer> StartAsync(FakeLangfuseOptions? options = null, CancellationToken cancellationToken = default)
    {
        var server = new FakeLangfuseServer(options ?? new FakeLangfuseOptions());
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(FakeLangfuseServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Use(next => async connection =>
            {
                server.Connected(+1);
                try
                {
                    await next(connection).ConfigureAwait(false);
                }
                finally
                {
                    server.Connected(-1);
                }
            }));
            kestrel.Limits.MaxRequestBodySize = null; // Limits are ours to answer, like Langfuse.
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server._app = app;
        server._baseUrl = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <summary>An <see cref="HttpClient"/> with <see cref="BaseUrl"/> and valid Basic credentials (dispose it).</summary>
    public HttpClient CreateClient()
    {
        var client = new HttpClient { BaseAddress = BaseUrl };
        client.DefaultRequestHeaders.Authorization = CreateAuthorizationHeader();
        return client;
    }

    /// <summary>A valid <c>Authorization: Basic base64(publicKey:secretKey)</c> header.</summary>
    public AuthenticationHeaderValue CreateAuthorizationHeader() =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_options.PublicKey}:{_options.SecretKey}")));

    /// <summary>Plans a response for the next request to the OTLP or batch path.</summary>
    public void Enqueue(FakeResponse response) => EnqueueFor(FakePath.Export, response);

    /// <summary>Plans a response for the next request to one of <paramref name="path"/>; planned responses are used in order.</summary>
    public void EnqueueFor(FakePath path, FakeResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        lock (_lock)
        {
            _planned.Add((path, response));
        }
    }

    /// <summary>Answers every request to <paramref name="path"/> with <paramref name="statusCode"/> until <see cref="Heal"/>; planned responses go first.</summary>
    public void FailAll(int statusCode, FakePath path = FakePath.Export, string? retryAfter = null)
    {
        var response = FakeResponse.Status(statusCode, retryAfter);
        lock (_lock)
        {
            _failAll = (path, response);
        }
    }

    /// <summary>Ends <see cref="FailAll"/>, drops planned responses and per-event failures.</summary>
    public void Heal()
    {
        lock (_lock)
        {
            _failAll = null;
            _planned.Clear();
            _eventFailures.Clear();
        }
    }

    /// <summary>
    /// Makes batch events matching <paramref name="predicate"/> come back as per-event errors inside the 207
    /// (not recorded), for <paramref name="times"/> events (null: until <see cref="Heal"/>).
    /// </summary>
    public void FailEvent(Func<ReceivedEvent, bool> predicate, int status = 500, string message = "Internal Server Error", int? times = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        lock (_lock)
        {
            _eventFailures.Add(new EventFailureRule(predicate, status, message, times));
        }
    }

    /// <summary>Forgets everything recorded (spans, events, requests, violations, drop count).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _spans.Clear();
            _events.Clear();
            _requests.Clear();
            _violations.Clear();
            _silentlyDropped = 0;
        }
    }

    /// <summary>Completes once at least <paramref name="count"/> spans are recorded.</summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/> (default <see cref="LoadedMachine.HangGuard"/>); the message lists what arrived.</exception>
    public Task WaitForSpansAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(s => s._spans.Count >= count, timeout, $"{count} span(s)");

    /// <summary>Completes once at least <paramref name="count"/> batch events are accepted.</summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/> (default <see cref="LoadedMachine.HangGuard"/>).</exception>
    public Task WaitForEventsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(s => s._events.Count >= count, timeout, $"{count} ingestion event(s)");

    /// <summary>Completes once at least <paramref name="count"/> requests are answered (to any path, or to <paramref name="path"/>).</summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/> (default <see cref="LoadedMachine.HangGuard"/>).</exception>
    public Task WaitForRequestsAsync(int count, TimeSpan? timeout = null, string? path = null) =>
        WaitUntilAsync(
            s => (path is null ? s._requests.Count : s._requests.Count(r => r.Path == path)) >= count,
            timeout,
            path is null ? $"{count} request(s)" : $"{count} request(s) to {path}");

    /// <summary>
    /// Completes once <paramref name="condition"/> holds; it is evaluated under the server's lock after every
    /// recorded request, so it must be quick and must not block.
    /// </summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/> (default <see cref="LoadedMachine.HangGuard"/>).</exception>
    public async Task WaitUntilAsync(Func<FakeLangfuseServer, bool> condition, TimeSpan? timeout = null, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? DefaultWaitTimeout;
        using var cts = new CancellationTokenSource(limit);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (condition(this))
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"Waited {limit} for {description ?? "a condition"}. {Describe()}");
            }
        }
    }

    /// <summary>A summary of what the server received, for failure messages.</summary>
    public string Describe()
    {
        lock (_lock)
        {
            var text = new StringBuilder();
            text.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"Received {_requests.Count} request(s), {_spans.Count} span(s), {_events.Count} event(s), {_silentlyDropped} silently dropped.");
            foreach (var request in _requests.TakeLast(20))
            {
                text.Append("\n  request: ").Append(request);
            }

            foreach (var span in _spans.TakeLast(20))
            {
                text.Append("\n  ").Append(span);
            }

            foreach (var ev in _events.TakeLast(20))
            {
                text.Append("\n  event: ").Append(ev);
            }

            foreach (var violation in _violations.TakeLast(20))
            {
                text.Append("\n  violation: ").Append(violation);
            }

            return text.ToString();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_app is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _app.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Shutting down a test double: stragglers do not matter.
            }

            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static FakePath Classify(string path) => path switch
    {
        OtlpPath => FakePath.Otlp,
        IngestionPath => FakePath.Ingestion,
        HealthPath => FakePath.Health,
        ProjectsPath => FakePath.Projects,
        _ => (FakePath)16,
    };

    private List<T> Snapshot<T>(List<T> list)
    {
        lock (_lock)
        {
            return [.. list];
        }
    }

    private FakeResponse? TakeFault(FakePath path)
    {
        lock (_lock)
        {
            var index = _planned.FindIndex(p => (p.Path & path) != 0);
            if (index >= 0)
            {
                var planned = _planned[index].Response;
                _planned.RemoveAt(index);
                return planned;
            }

            return _failAll is { } failAll && (failAll.Path & path) != 0 ? failAll.Response : null;
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var fakePath = Classify(path);

        byte[] raw;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
            raw = buffer.ToArray();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return; // The client went away mid-body; nothing to answer.
        }

        var contentEncoding = request.Headers.ContentEncoding.Count == 0 ? null : request.Headers.ContentEncoding.ToString();
        var body = Decode(raw, contentEncoding, out var decodeError);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers)
        {
            headers[header.Key] = header.Value.ToString();
        }

        ReceivedRequest Record(int status, string? fault) =>
            new(request.Method, path, headers, request.ContentType, contentEncoding, raw.LongLength, body, status, fault, receivedAt);

        var fault = TakeFault(fakePath);
        switch (fault?.Kind)
        {
            case FakeResponseKind.DropConnection:
                Commit(Record(0, fault.ToString()), null);
                context.Abort();
                return;
            case FakeResponseKind.Status:
                var planned = Answer.ForStatus(fault.StatusCode, fault.RetryAfter, fault.Body);
                Commit(Record(planned.Status, fault.ToString()), null);
                await WriteAsync(context, planned).ConfigureAwait(false);
                return;
            case FakeResponseKind.Delay:
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token))
                {
                    try
                    {
                        await Task.Delay(fault.DelayBy, linked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        Commit(Record(0, fault + "; client went away"), null);
                        return;
                    }
                }

                break;
        }

        var outcome = new Outcome();
        var answer = Process(context, fakePath, raw, body, decodeError, outcome);
        Commit(Record(answer.Status, fault?.ToString()), outcome);
        await WriteAsync(context, answer).ConfigureAwait(false);
    }

    private static byte[] Decode(byte[] raw, string? contentEncoding, out string? error)
    {
        error = null;
        if (contentEncoding is null || contentEncoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return raw;
        }

        if (!contentEncoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            error = $"Unsupported Content-Encoding '{contentEncoding}'";
            return [];
        }

        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var decoded = new MemoryStream();
            gzip.CopyTo(decoded);
            return decoded.ToArray();
        }
        catch (InvalidDataException)
        {
            error = "Body is not valid gzip";
            return [];
        }
    }

    private void Connected(int change)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            _openConnections += change;
            signal = _changed;
            _changed = NewSignal();
        }

        signal.TrySetResult();
    }

    private void Commit(ReceivedRequest request, Outcome? outcome)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            _requests.Add(request);
            if (outcome is not null)
            {
                _spans.AddRange(outcome.Spans);
                _events.AddRange(outcome.Events);
                _violations.AddRange(outcome.Violations);
                _silentlyDropped += outcome.Dropped;
            }

            signal = _changed;
            _changed = NewSignal();
        }

        signal.TrySetResult();
    }

    private static async Task WriteAsync(HttpContext context, Answer answer)
    {
        try
        {
            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = answer.ContentType;
            foreach (var header in answer.Headers)
            {
                context.Response.Headers[header.Key] = header.Value;
            }

            await context.Response.WriteAsync(answer.Body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client went away; the request is already recorded.
        }
    }

    private Answer Process(HttpContext context, FakePath path, byte[] raw, byte[] body, string? decodeError, Outcome outcome)
    {
        var method = context.Request.Method;
        switch (path)
        {
            case FakePath.Health:
                return HttpMethods.IsGet(method) || HttpMethods.IsHead(method)
                    ? Answer.Json(200, new JsonObject { ["status"] = "OK", ["version"] = VersionString() })
                    : Answer.ForStatus(405, null, null);
            case FakePath.Projects:
                if (!HttpMethods.IsGet(method))
                {
                    return Answer.ForStatus(405, null, null);
                }

                return Unauthorized(context.Request) ?? Answer.Json(200, new JsonObject
                {
                    ["data"] = new JsonArray(new JsonObject { ["id"] = "fake-project", ["name"] = "Fake project", ["metadata"] = new JsonObject() }),
                });
            case FakePath.Otlp:
                if (Version == FakeLangfuseVersion.V2)
                {
                    return Answer.ForStatus(404, null, null);
                }

                return HttpMethods.IsPost(method) ? ProcessOtlp(context.Request, raw, body, decodeError, outcome) : Answer.ForStatus(405, null, null);
            case FakePath.Ingestion:
                return HttpMethods.IsPost(method) ? ProcessIngestion(context.Request, raw, body, decodeError, outcome) : Answer.ForStatus(405, null, null);
            default:
                return Answer.ForStatus(404, null, null);
        }
    }

    private Answer ProcessOtlp(HttpRequest request, byte[] raw, byte[] body, string? decodeError, Outcome outcome)
    {
        if (Unauthorized(request) is { } unauthorized)
        {
            return unauthorized;
        }

        var ingestionVersion = request.Headers["x-langfuse-ingestion-version"].ToString();
        if (ingestionVersion.Length > 0 && (!int.TryParse(ingestionVersion, out var parsedVersion) || parsedVersion > 4))
        {
            return Answer.Message(400, $"Unsupported x-langfuse-ingestion-version '{ingestionVersion}'");
        }

        if (_options.MaxOtlpBodyBytes is { } max && raw.LongLength > max)
        {
            return Answer.Message(413, "Request body too large");
        }

        if (decodeError is not null)
        {
            return Answer.Message(400, decodeError);
        }

        var contentType = request.ContentType ?? "";
        var verbatimIds = _options.AcceptStringIds ? new Dictionary<string, string>(StringComparer.Ordinal) : null;
        Otlp.Collector.Trace.V1.ExportTraceServiceRequest export;
        try
        {
            if (contentType.Contains("application/x-protobuf", StringComparison.OrdinalIgnoreCase))
            {
                export = OtlpDecoder.ParseProtobuf(body);
            }
            else if (contentType.Contains("application/json", StringComparison.OrdinalIgnoreCase))
            {
                export = OtlpDecoder.ParseJson(body, outcome.Violations, verbatimIds);
            }
            else
            {
                return Answer.Message(400, $"Unsupported content type '{contentType}'; use application/x-protobuf or application/json");
            }
        }
        catch (Exception ex) when (ex is FormatException or Google.Protobuf.InvalidProtocolBufferException)
        {
            return Answer.Message(400, "Invalid OTLP request: " + ex.Message);
        }

        if (OtlpDecoder.ToSpans(export, contentType, outcome.Spans, outcome.Violations, verbatimIds) is { } error)
        {
            outcome.Spans.Clear();
            outcome.Violations.Clear();
            return Answer.Message(400, error);
        }

        return Answer.Json(200, new JsonObject());
    }

    private Answer ProcessIngestion(HttpRequest request, byte[] raw, byte[] body, string? decodeError, Outcome outcome)
    {
        // Next.js parses (and limits) the body before the route's auth runs.
        if (raw.LongLength > _options.MaxIngestionBodyBytes)
        {
            return Answer.Text(413, "Body exceeded 4.5mb limit");
        }

        if (Unauthorized(request) is { } unauthorized)
        {
            return unauthorized;
        }

        if (decodeError is not null)
        {
            return Answer.Message(400, decodeError);
        }

        if (!(request.ContentType ?? "").Contains("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return InvalidRequest("Content-Type must be application/json");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            return InvalidRequest("Body is not valid JSON: " + ex.Message);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("batch", out var batch) ||
                batch.ValueKind != JsonValueKind.Array)
            {
                return InvalidRequest("Body must be {\"batch\": [...], \"metadata\": {...}}");
            }

            var version = Version;
            var successes = new JsonArray();
            var errors = new JsonArray();
            foreach (var item in batch.EnumerateArray())
            {
                var (status, message, error) = ProcessEvent(item, version, outcome, out var id);
                if (status == 201)
                {
                    successes.Add(new JsonObject { ["id"] = id, ["status"] = 201 });
                }
                else
                {
                    errors.Add(new JsonObject { ["id"] = id, ["status"] = status, ["message"] = message, ["error"] = error });
                }
            }

            return Answer.Json(207, new JsonObject { ["successes"] = successes, ["errors"] = errors });
        }
    }

    private (int Status, string? Message, string? Error) ProcessEvent(JsonElement item, FakeLangfuseVersion version, Outcome outcome, out string id)
    {
        if (IngestionValidator.ParseEnvelope(item, out var ev, out id) is { } envelopeError)
        {
            return (400, "Invalid request data", envelopeError);
        }

        lock (_lock)
        {
            foreach (var rule in _eventFailures)
            {
                if (rule.Remaining is not 0 && rule.Predicate(ev!))
                {
                    rule.Remaining--;
                    return (rule.Status, rule.Message, rule.Message);
                }
            }
        }

        if (version == FakeLangfuseVersion.V4 && ev!.Type is not ("score-create" or "sdk-log"))
        {
            return (400, "Event type not accepted", $"Event type '{ev.Type}' is not accepted by the batch endpoint; send it as OTLP");
        }

        if (IngestionValidator.ValidateBody(ev!, outcome.Violations, out var drop) is { } bodyError)
        {
            return (400, "Invalid request data", bodyError);
        }

        if (drop)
        {
            outcome.Dropped++;
        }
        else
        {
            outcome.Events.Add(ev!);
        }

        return (201, null, null);
    }

    private static Answer InvalidRequest(string error) =>
        Answer.Json(400, new JsonObject { ["message"] = "Invalid request data", ["error"] = error });

    /// <summary>Null when authorized. Messages never contain what the client sent.</summary>
    private Answer? Unauthorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return Answer.Message(401, "Unauthorized: no Basic authorization header");
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            return Answer.Message(401, "Unauthorized: malformed Basic authorization header");
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 ||
            !string.Equals(decoded[..colon], _options.PublicKey, StringComparison.Ordinal) ||
            !string.Equals(decoded[(colon + 1)..], _options.SecretKey, StringComparison.Ordinal))
        {
            return Answer.Message(401, "Invalid credentials. Confirm that you've configured the correct host.");
        }

        return null;
    }

    private string VersionString() => _options.VersionString ?? Version switch
    {
        FakeLangfuseVersion.V2 => "2.95.0",
        FakeLangfuseVersion.V3 => "3.120.0",
        _ => "4.16.0",
    };

    /// <summary>What one request would add to the record; committed together with the request.</summary>
    private sealed class Outcome
    {
        public List<ReceivedSpan> Spans { get; } = [];

        public List<ReceivedEvent> Events { get; } = [];

        public List<string> Violations { get; } = [];

        public int Dropped { get; set; }
    }
}
