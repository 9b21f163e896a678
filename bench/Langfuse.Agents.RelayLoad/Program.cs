// Sustained-ingest load for the relay: starts a minimal always-OK upstream on loopback (in this process), the built relay
// as a child process (fsync before acknowledgement unless --fsync false), and sends OTLP protobuf requests at a steady
// open-loop rate (or, with --mode max, as fast as --concurrency clients can). Latency is measured from each request's
// scheduled send time, so a stalled relay cannot hide behind a slowed-down sender. See bench/RESULTS.md, "Relay".
// --mode forward: the steady load, watching forwarding: spans the upstream received per second and the relay's backlog
// (from /relay/status) every second. --mode drain: fills a backlog of --records requests while the upstream answers 503,
// stops the relay, then starts a fresh one on the same directory with a healthy upstream and times the drain.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Langfuse.Agents.RelayLoad;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var options = LoadOptions.Parse(args);
Console.WriteLine($"relay load: {options}");

if (options.Mode == "drain")
{
    await Drain.RunAsync(options);
    return;
}

await using var upstream = await Upstream.StartAsync();
var bufferDir = options.BufferDir ?? Directory.CreateTempSubdirectory("langfuse-relay-load-").FullName;
using var relay = RelayChild.Start(options, upstream.BaseUrl, bufferDir);
try
{
    var relayUrl = await relay.WaitForListeningAsync(TimeSpan.FromSeconds(30));
    Console.WriteLine($"upstream {upstream.BaseUrl}, relay {relayUrl} (pid {relay.Id}), buffer {bufferDir}, fsync {options.Fsync}");

    var payloads = Enumerable.Range(0, 512).Select(_ => Payloads.OtlpProtobuf(options.Spans)).ToArray();
    Console.WriteLine($"payload: {options.Spans} spans, ~{payloads.Average(p => p.Length):0} bytes of OTLP protobuf");
    using var client = new HttpClient(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 1024,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        UseProxy = false,
    })
    {
        BaseAddress = relayUrl,
        Timeout = TimeSpan.FromSeconds(30),
    };
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("pk-lf-load:sk-lf-load")));

    using var watch = options.Mode == "forward" ? Watch.Start(client, upstream, options.Spans) : null;
    var result = options.Mode == "max"
        ? await Load.ClosedLoopAsync(client, payloads, options)
        : await Load.OpenLoopAsync(client, payloads, options);

    var drain = Stopwatch.StartNew();
    var target = (long)result.AcknowledgedTotal * options.Spans;
    while (upstream.Spans < target && drain.Elapsed < TimeSpan.FromSeconds(120))
    {
        await Task.Delay(50);
    }

    result.Print(options, upstream.Spans / options.Spans, result.AcknowledgedTotal, drain.Elapsed);
    Console.WriteLine($"upstream requests: {upstream.Requests} for {upstream.Spans} spans ({(upstream.Requests == 0 ? 0 : upstream.Spans / (double)upstream.Requests):0} spans per request)");
    watch?.Print();
}
finally
{
    relay.Kill();
    if (options.BufferDir is null)
    {
        Directory.Delete(bufferDir, recursive: true);
    }
}

namespace Langfuse.Agents.RelayLoad
{
    internal sealed record LoadOptions(string Mode, int Rate, int Spans, int Seconds, int Warmup, int Concurrency, bool Fsync, string? BufferDir, int Records)
    {
        public static LoadOptions Parse(string[] args)
        {
            string? Get(string name)
            {
                var i = Array.IndexOf(args, "--" + name);
                return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
            }

            int Int(string name, int fallback) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
            return new LoadOptions(
                Get("mode") ?? "steady",
                Int("rate", 1000),
                Int("spans", 20),
                Int("seconds", 30),
                Int("warmup", 5),
                Int("concurrency", 32),
                !string.Equals(Get("fsync"), "false", StringComparison.OrdinalIgnoreCase),
                Get("buffer-dir"),
                Int("records", 20_000));
        }

        public override string ToString() => Mode switch
        {
            "max" => $"closed loop, {Concurrency} concurrent clients, {Spans} spans/request, {Warmup} s warm-up + {Seconds} s measured, fsync {Fsync}",
            "drain" => $"drain a backlog of {Records} requests x {Spans} spans (filled by {Concurrency} clients while the upstream answers 503), fsync {Fsync}",
            _ => $"open loop, {Rate} requests/s, {Spans} spans/request, {Warmup} s warm-up + {Seconds} s measured, fsync {Fsync}" + (Mode == "forward" ? ", watching forwarding" : ""),
        };
    }

    internal sealed class LoadResult
    {
        public required long[] Latencies { get; init; } // ticks, of acknowledged measured requests

        public required int Measured { get; init; }

        public required int Failed { get; init; }

        public required TimeSpan MeasuredSpan { get; init; }

        public required int AcknowledgedTotal { get; init; }

        public required string FirstError { get; init; }

        public void Print(LoadOptions options, long forwarded, int acknowledged, TimeSpan drain)
        {
            Array.Sort(Latencies);
            string P(double q) => Latencies.Length == 0
                ? "-"
                : (Latencies[Math.Min(Latencies.Length - 1, (int)Math.Ceiling(q * Latencies.Length) - 1)] * 1000.0 / Stopwatch.Frequency).ToString("0.00", CultureInfo.InvariantCulture);
            var ackPerSecond = Latencies.Length / MeasuredSpan.TotalSeconds;
            Console.WriteLine();
            Console.WriteLine($"measured window: {MeasuredSpan.TotalSeconds:0.0} s, {Measured} requests sent, {Latencies.Length} acknowledged, {Failed} failed{FirstError}");
            Console.WriteLine($"acknowledged: {ackPerSecond:0} requests/s = {ackPerSecond * options.Spans:0} spans/s");
            Console.WriteLine($"ack latency ms: p50 {P(0.50)}  p90 {P(0.90)}  p99 {P(0.99)}  p99.9 {P(0.999)}  max {P(1.0)}");
            Console.WriteLine($"forwarded to the upstream: {forwarded} of {acknowledged} acknowledged requests, {drain.TotalSeconds:0.0} s after the load stopped");
        }
    }

    internal static class Load
    {
        /// <summary>Request i is due at start + i/rate; each is sent when due (a 1 ms timer launches what is due), latency from due time.</summary>
        public static async Task<LoadResult> OpenLoopAsync(HttpClient client, byte[][] payloads, LoadOptions options)
        {
            var total = options.Rate * (options.Warmup + options.Seconds);
            var firstMeasured = options.Rate * options.Warmup;
            var latencies = new long[total];
            var ok = new bool[total];
            var failed = 0;
            string? firstError = null;
            var tasks = new List<Task>(total);
            var interval = (double)Stopwatch.Frequency / options.Rate;
            var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
            var next = 0;
            while (next < total)
            {
                var now = Stopwatch.GetTimestamp();
                while (next < total && start + (long)(next * interval) <= now)
                {
                    var i = next++;
                    var due = start + (long)(i * interval);
                    tasks.Add(Task.Run(async () =>
                    {
                        try
                        {
                            using var content = new ByteArrayContent(payloads[i % payloads.Length]);
                            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
                            using var response = await client.PostAsync("api/public/otel/v1/traces", content);
                            if (response.StatusCode == HttpStatusCode.OK)
                            {
                                latencies[i] = Stopwatch.GetTimestamp() - due;
                                ok[i] = true;
                                return;
                            }

                            Interlocked.CompareExchange(ref firstError, $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}", null);
                        }
                        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                        {
                            Interlocked.CompareExchange(ref firstError, ex.Message, null);
                        }

                        Interlocked.Increment(ref failed);
                    }));
                }

                await Task.Delay(1);
            }

            await Task.WhenAll(tasks);
            var end = Stopwatch.GetTimestamp();
            var measuredStart = start + (long)(firstMeasured * interval);
            var measured = Enumerable.Range(firstMeasured, total - firstMeasured).Where(i => ok[i]).Select(i => latencies[i]).ToArray();
            return new LoadResult
            {
                Latencies = measured,
                Measured = total - firstMeasured,
                Failed = failed,
                MeasuredSpan = TimeSpan.FromSeconds((end - measuredStart) / (double)Stopwatch.Frequency),
                AcknowledgedTotal = ok.Count(o => o),
                FirstError = firstError is null ? "" : $" (first error: {firstError})",
            };
        }

        /// <summary>--concurrency clients each sending back to back: the relay's ceiling, with latency at that load.</summary>
        public static async Task<LoadResult> ClosedLoopAsync(HttpClient client, byte[][] payloads, LoadOptions options)
        {
            var warmupEnd = Stopwatch.GetTimestamp() + (options.Warmup * Stopwatch.Frequency);
            var end = warmupEnd + (options.Seconds * Stopwatch.Frequency);
            var latencies = new List<long>[options.Concurrency];
            var failed = 0;
            var acknowledged = 0;
            var measured = 0;
            string? firstError = null;
            await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(w => Task.Run(async () =>
            {
                var mine = latencies[w] = new List<long>(100_000);
                var n = w;
                while (true)
                {
                    var sent = Stopwatch.GetTimestamp();
                    if (sent >= end)
                    {
                        return;
                    }

                    var inWindow = sent >= warmupEnd;
                    if (inWindow)
                    {
                        Interlocked.Increment(ref measured);
                    }

                    try
                    {
                        using var content = new ByteArrayContent(payloads[n++ % payloads.Length]);
                        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
                        using var response = await client.PostAsync("api/public/otel/v1/traces", content);
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            Interlocked.Increment(ref acknowledged);
                            if (inWindow)
                            {
                                mine.Add(Stopwatch.GetTimestamp() - sent);
                            }

                            continue;
                        }

                        Interlocked.CompareExchange(ref firstError, $"HTTP {(int)response.StatusCode}", null);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        Interlocked.CompareExchange(ref firstError, ex.Message, null);
                    }

                    Interlocked.Increment(ref failed);
                }
            })));
            return new LoadResult
            {
                Latencies = [.. latencies.SelectMany(l => l)],
                Measured = measured,
                Failed = failed,
                MeasuredSpan = TimeSpan.FromSeconds(options.Seconds),
                AcknowledgedTotal = acknowledged,
                FirstError = firstError is null ? "" : $" (first error: {firstError})",
            };
        }
    }

    /// <summary>
    /// A loopback upstream that reads each request and answers as Langfuse does (200 {} / 207), counting requests and
    /// the spans in them (records are merged into few requests, so requests no longer count records); or, while
    /// <see cref="Failing"/>, answers 503.
    /// </summary>
    internal sealed class Upstream : IAsyncDisposable
    {
        private WebApplication? _app;
        private long _requests;
        private long _spans;
        private volatile bool _failing;

        public Uri BaseUrl { get; private set; } = null!;

        public long Requests => Interlocked.Read(ref _requests);

        public long Spans => Interlocked.Read(ref _spans);

        public bool Failing
        {
            get => _failing;
            set => _failing = value;
        }

        public static async Task<Upstream> StartAsync()
        {
            var upstream = new Upstream();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.Listen(IPAddress.Loopback, 0);
                k.Limits.MaxRequestBodySize = null;
            });
            var app = builder.Build();
            app.Run(async context =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                if (upstream._failing)
                {
                    context.Response.StatusCode = 503;
                    return;
                }

                Interlocked.Increment(ref upstream._requests);
                if (context.Request.Path == "/api/public/otel/v1/traces")
                {
                    var request = Langfuse.Agents.Testing.Otlp.Collector.Trace.V1.ExportTraceServiceRequest.Parser.ParseFrom(body.GetBuffer().AsSpan(0, (int)body.Length));
                    Interlocked.Add(ref upstream._spans, request.ResourceSpans.Sum(r => r.ScopeSpans.Sum(s => (long)s.Spans.Count)));
                }

                context.Response.ContentType = "application/json";
                if (context.Request.Path == "/api/public/ingestion")
                {
                    context.Response.StatusCode = 207;
                    await context.Response.WriteAsync("{\"successes\":[],\"errors\":[]}");
                }
                else
                {
                    await context.Response.WriteAsync("{}");
                }
            });
            await app.StartAsync();
            upstream._app = app;
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            upstream.BaseUrl = new Uri(address.TrimEnd('/') + "/");
            return upstream;
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }
        }
    }

    /// <summary>The built relay (same configuration as this tool) as a child process.</summary>
    internal sealed class RelayChild : IDisposable
    {
        private readonly Process _process;
        private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly StringBuilder _output = new();

        private RelayChild(Process process) => _process = process;

        public int Id => _process.Id;

        public static RelayChild Start(LoadOptions options, Uri upstream, string bufferDir)
        {
            var dll = Path.Combine(AppContext.BaseDirectory.Replace("Langfuse.Agents.RelayLoad", "Langfuse.Agents.Relay", StringComparison.Ordinal)
                .Replace("/bench/", "/src/", StringComparison.Ordinal), "Langfuse.Agents.Relay.dll");
            if (!File.Exists(dll))
            {
                throw new FileNotFoundException($"The relay is not built at {dll}.");
            }

            var start = new ProcessStartInfo("dotnet", [dll, "--urls", "http://127.0.0.1:0"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("LANGFUSE_", StringComparison.Ordinal)).ToList())
            {
                start.Environment.Remove(key);
            }

            start.Environment["LANGFUSE_BASE_URL"] = upstream.ToString().TrimEnd('/');
            start.Environment["LANGFUSE_PUBLIC_KEY"] = "pk-lf-upstream";
            start.Environment["LANGFUSE_SECRET_KEY"] = "sk-lf-upstream";
            start.Environment["LANGFUSE_RELAY_PUBLIC_KEY"] = "pk-lf-load";
            start.Environment["LANGFUSE_RELAY_SECRET_KEY"] = "sk-lf-load";
            start.Environment["LANGFUSE_BUFFER_DIR"] = bufferDir;
            start.Environment["LANGFUSE_RELAY_FSYNC"] = options.Fsync ? "true" : "false";
            start.Environment["LANGFUSE_BUFFER_MAX_BYTES"] = (4L * 1024 * 1024 * 1024).ToString(CultureInfo.InvariantCulture);
            var child = new RelayChild(Process.Start(start)!);
            child._process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
            child._process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
            child._process.BeginOutputReadLine();
            child._process.BeginErrorReadLine();
            return child;
        }

        public async Task<Uri> WaitForListeningAsync(TimeSpan timeout)
        {
            try
            {
                return await _listening.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException("The relay did not print 'relay listening on':\n" + _output);
            }
        }

        public void Kill()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }

        public void Dispose() => _process.Dispose();

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }

            const string marker = "relay listening on ";
            var at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                _listening.TrySetResult(new Uri(line[(at + marker.Length)..].Trim().TrimEnd('/') + "/"));
            }
        }
    }

    /// <summary>Every second: spans the upstream received in that second, and the relay's backlog in records.</summary>
    internal sealed class Watch : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<(double Seconds, long Spans, long Backlog)> _samples = [];
        private readonly Task _loop;

        private Watch(HttpClient client, Upstream upstream, int spansPerRequest)
        {
            _loop = Task.Run(async () =>
            {
                var started = Stopwatch.StartNew();
                var last = upstream.Spans;
                using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
                while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
                {
                    var now = upstream.Spans;
                    var backlog = await Status.BacklogRecordsAsync(client).ConfigureAwait(false);
                    lock (_samples)
                    {
                        _samples.Add((started.Elapsed.TotalSeconds, now - last, backlog));
                    }

                    last = now;
                }
            });
            SpansPerRequest = spansPerRequest;
        }

        private int SpansPerRequest { get; }

        public static Watch Start(HttpClient client, Upstream upstream, int spansPerRequest) => new(client, upstream, spansPerRequest);

        public void Print()
        {
            _stop.Cancel();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // cancelled
            }

            lock (_samples)
            {
                Console.WriteLine("second | forwarded spans | = requests/s | backlog records");
                foreach (var (seconds, spans, backlog) in _samples)
                {
                    Console.WriteLine($"{seconds,6:0} | {spans,15} | {spans / SpansPerRequest,12} | {backlog,15}");
                }

                if (_samples.Count > 0)
                {
                    Console.WriteLine($"backlog: max {_samples.Max(s => s.Backlog)} records, last {_samples[^1].Backlog}; forwarded: mean {_samples.Average(s => s.Spans):0} spans/s, min {_samples.Min(s => s.Spans)} spans/s");
                }
            }
        }

        public void Dispose() => _stop.Dispose();
    }

    internal static class Status
    {
        /// <summary>backlog.records from /relay/status, or -1.</summary>
        public static async Task<long> BacklogRecordsAsync(HttpClient client)
        {
            try
            {
                using var status = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("relay/status").ConfigureAwait(false));
                return status.RootElement.GetProperty("backlog").GetProperty("records").GetInt64();
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or KeyNotFoundException)
            {
                return -1;
            }
        }

        public static async Task<(long Records, long Segments)> BacklogAsync(HttpClient client)
        {
            using var status = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("relay/status").ConfigureAwait(false));
            var backlog = status.RootElement.GetProperty("backlog");
            return (backlog.GetProperty("records").GetInt64(), backlog.GetProperty("segments").GetInt64());
        }
    }

    /// <summary>
    /// Fills a backlog while the upstream answers 503 (--concurrency clients, every request acknowledged once on disk),
    /// stops that relay, then starts a fresh relay on the same directory with the upstream healthy and times until the
    /// upstream has every span and the backlog is empty.
    /// </summary>
    internal static class Drain
    {
        public static async Task RunAsync(LoadOptions options)
        {
            await using var upstream = await Upstream.StartAsync();
            upstream.Failing = true;
            var bufferDir = options.BufferDir ?? Directory.CreateTempSubdirectory("langfuse-relay-drain-").FullName;
            var payloads = Enumerable.Range(0, 512).Select(_ => Payloads.OtlpProtobuf(options.Spans)).ToArray();
            try
            {
                long segments;
                var fill = Stopwatch.StartNew();
                using (var first = RelayChild.Start(options, upstream.BaseUrl, bufferDir))
                {
                    using var client = Client(await first.WaitForListeningAsync(TimeSpan.FromSeconds(30)));
                    var sent = 0;
                    var failed = 0;
                    await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
                    {
                        while (true)
                        {
                            var i = Interlocked.Increment(ref sent) - 1;
                            if (i >= options.Records)
                            {
                                return;
                            }

                            using var content = new ByteArrayContent(payloads[i % payloads.Length]);
                            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
                            using var response = await client.PostAsync("api/public/otel/v1/traces", content);
                            if (response.StatusCode != HttpStatusCode.OK)
                            {
                                Interlocked.Increment(ref failed);
                            }
                        }
                    })));
                    (var records, segments) = await Status.BacklogAsync(client);
                    Console.WriteLine($"filled: {options.Records - failed} of {options.Records} acknowledged in {fill.Elapsed.TotalSeconds:0.0} s; backlog {records} records in {segments} segments");
                    first.Kill();
                }

                upstream.Failing = false;
                var target = (long)options.Records * options.Spans;
                var drain = Stopwatch.StartNew();
                using var second = RelayChild.Start(options, upstream.BaseUrl, bufferDir);
                using var client2 = Client(await second.WaitForListeningAsync(TimeSpan.FromSeconds(60)));
                var started = drain.Elapsed;
                var lastPrint = TimeSpan.Zero;
                while (upstream.Spans < target && drain.Elapsed < TimeSpan.FromSeconds(600))
                {
                    await Task.Delay(50);
                    if (drain.Elapsed - lastPrint >= TimeSpan.FromSeconds(5))
                    {
                        lastPrint = drain.Elapsed;
                        Console.WriteLine($"  {drain.Elapsed.TotalSeconds,6:0.0} s: {upstream.Spans / options.Spans} of {options.Records} requests' spans forwarded in {upstream.Requests} upstream requests");
                    }
                }

                var elapsed = drain.Elapsed;
                var (left, _) = await Status.BacklogAsync(client2);
                Console.WriteLine($"drained: {upstream.Spans} of {target} spans in {elapsed.TotalSeconds:0.0} s from the second relay's start ({started.TotalSeconds:0.0} s of it starting up), " +
                    $"{options.Records / Math.Max(0.001, elapsed.TotalSeconds):0} records/s, {upstream.Requests} upstream requests; backlog left {left} records (was {segments} segments)");
                second.Kill();
            }
            finally
            {
                if (options.BufferDir is null)
                {
                    Directory.Delete(bufferDir, recursive: true);
                }
            }
        }

        private static HttpClient Client(Uri relayUrl)
        {
            var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, UseProxy = false }) { BaseAddress = relayUrl, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("pk-lf-load:sk-lf-load")));
            return client;
        }
    }

    internal static class Payloads
    {
        public static byte[] OtlpProtobuf(int spans)
        {
            var traceId = Google.Protobuf.ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            var root = Google.Protobuf.ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
            var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
            var scope = new Langfuse.Agents.Testing.Otlp.Trace.V1.ScopeSpans
            {
                Scope = new Langfuse.Agents.Testing.Otlp.Common.V1.InstrumentationScope { Name = "langfuse-sdk", Version = "relay-load" },
            };
            for (var i = 0; i < spans; i++)
            {
                var span = new Langfuse.Agents.Testing.Otlp.Trace.V1.Span
                {
                    TraceId = traceId,
                    SpanId = i == 0 ? root : Google.Protobuf.ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)),
                    ParentSpanId = i == 0 ? Google.Protobuf.ByteString.Empty : root,
                    Name = i == 0 ? "agent-run" : $"tool-call-{i}",
                    Kind = Langfuse.Agents.Testing.Otlp.Trace.V1.Span.Types.SpanKind.Internal,
                    StartTimeUnixNano = now,
                    EndTimeUnixNano = now + 2_000_000,
                };
                span.Attributes.Add(Attr("langfuse.observation.type", i == 0 ? "agent" : "tool"));
                span.Attributes.Add(Attr("langfuse.observation.input", "{\"query\":\"what changed in the quarterly numbers\",\"step\":" + i + "}"));
                span.Attributes.Add(Attr("langfuse.observation.output", "{\"hits\":3,\"summary\":\"revenue up 4 percent, costs flat\"}"));
                scope.Spans.Add(span);
            }

            var resource = new Langfuse.Agents.Testing.Otlp.Trace.V1.ResourceSpans { Resource = new Langfuse.Agents.Testing.Otlp.Resource.V1.Resource() };
            resource.Resource.Attributes.Add(Attr("service.name", "relay-load"));
            resource.ScopeSpans.Add(scope);
            var request = new Langfuse.Agents.Testing.Otlp.Collector.Trace.V1.ExportTraceServiceRequest();
            request.ResourceSpans.Add(resource);
            return Google.Protobuf.MessageExtensions.ToByteArray(request);
        }

        private static Langfuse.Agents.Testing.Otlp.Common.V1.KeyValue Attr(string key, string value) =>
            new() { Key = key, Value = new Langfuse.Agents.Testing.Otlp.Common.V1.AnyValue { StringValue = value } };
    }
}
