using System.Diagnostics;
using System.Net;
using Langfuse.Agents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace DistributedAgents;

/// <summary>The searcher agent: an HTTP service whose observations continue the caller's trace.</summary>
internal static class SearcherService
{
    /// <summary>The line the coordinator waits for: the searcher is ready at this address.</summary>
    public const string ReadyPrefix = "searcher ready ";

    public static async Task<int> RunAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddLangfuse(options => options.ServiceName ??= "searcher"); // OTEL_SERVICE_NAME wins
        builder.Services.AddLangfuseTraceContext();
        var app = builder.Build();

        app.UseLangfuseTraceContext(); // requests carrying a traceparent continue the caller's trace
        app.MapGet("/health", () => "ok");
        app.MapPost("/search", SearchAsync);

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Console.WriteLine($"{ReadyPrefix}{address} pid {Environment.ProcessId}");

        // The coordinator stops us by closing our standard input (it also ends us if the coordinator dies).
        await Console.In.ReadToEndAsync();
        await app.StopAsync(); // the hosted service AddLangfuse registered flushes here
        await app.DisposeAsync();
        return 0;
    }

    private static async Task<SearchResponse> SearchAsync(SearchRequest request, LangfuseTracer tracer, HttpContext http)
    {
        await using var agent = tracer.StartAgent("searcher", input: request.Query);
        try
        {
            if (request.Query == Environment.GetEnvironmentVariable("DISTRIBUTED_AGENTS_CRASH_ON"))
            {
                Console.WriteLine($"searcher crashing on \"{request.Query}\"");
                Process.GetCurrentProcess().Kill(); // SIGKILL: no flush, no answer, the connection drops
            }

            if (request.Query == Environment.GetEnvironmentVariable("DISTRIBUTED_AGENTS_HANG_ON"))
            {
                await Task.Delay(Timeout.Infinite, http.RequestAborted); // ends when the caller gives up
            }

            // Fake work with a network's pace, so Langfuse shows real step durations (it keeps milliseconds).
            List<SearchHit> hits;
            using (var search = tracer.StartTool("web_search", input: new { query = request.Query }))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(40), TimeProvider.System, http.RequestAborted);
                hits = FakeIndex.Search(request.Query);
                search.Output = hits;
            }

            using (var rank = tracer.StartGeneration("rank", model: "fake-ranker-1", input: hits.Select(h => h.Title)))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(15), TimeProvider.System, http.RequestAborted);
                rank.MarkFirstToken();
                await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, http.RequestAborted);
                hits = [.. hits.OrderByDescending(h => h.Score)];
                rank.Output = hits.Select(h => h.Title);
                rank.SetUsage(input: 40 * hits.Count, output: 5 * hits.Count);
            }

            agent.Output = new { hits = hits.Count };
            return new SearchResponse(hits);
        }
        catch (Exception ex)
        {
            agent.RecordException(ex);
            throw;
        }
    }
}
