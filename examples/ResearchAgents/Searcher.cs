using Langfuse.Agents;

namespace ResearchAgents;

/// <summary>What the searcher found: the sources, and how many tool attempts failed on the way.</summary>
internal sealed record Findings(IReadOnlyList<SearchResult> Results, Page? TopPage, int FailedAttempts, bool AllToolsSucceeded);

/// <summary>
/// The searcher agent: runs the planned searches in parallel (sibling <c>web_search</c> tool observations), then
/// reads the best hit with <c>fetch_page</c>, retrying transient failures (one tool observation per attempt).
/// </summary>
internal sealed class Searcher(LangfuseTracer tracer, FakeWeb web, TimeProvider timeProvider)
{
    private const int MaxAttempts = 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(20);

    public async Task<Findings> SearchAsync(IReadOnlyList<string> searchQueries, CancellationToken cancellationToken = default)
    {
        // The caller is whoever is current right now (the coordinator); the agent becomes its child.
        var caller = LangfuseTracer.CurrentObservation?.Name ?? "user";
        await using var agent = tracer.StartAgent("searcher", input: searchQueries);
        agent.SetMetadata("caller", caller).SetMetadata("callee", "searcher");

        // Each search runs in its own async flow, so both tool observations are children of "searcher".
        var hits = await Task.WhenAll(searchQueries.Select(q => WebSearchAsync(q, cancellationToken)));
        var results = hits.SelectMany(h => h).DistinctBy(r => r.Url).ToList();

        var (page, failedAttempts) = results.Count > 0
            ? await FetchPageWithRetryAsync(results[0].Url, cancellationToken)
            : (null, 0);

        var findings = new Findings(results, page, failedAttempts, AllToolsSucceeded: page is not null);
        agent.Output = new { sources = results.Select(r => r.Url), topPage = page?.Url, failedAttempts };
        return findings;
    }

    private async Task<IReadOnlyList<SearchResult>> WebSearchAsync(string query, CancellationToken cancellationToken)
    {
        await using var tool = tracer.StartTool("web_search", input: new { query });
        var results = await web.SearchAsync(query, cancellationToken);
        tool.Output = results;
        return results;
    }

    private async Task<(Page? Page, int FailedAttempts)> FetchPageWithRetryAsync(string url, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            // One observation per attempt: a failed attempt stays visible in Langfuse as its own ERROR step.
            await using var tool = tracer.StartTool("fetch_page", input: new { url });
            tool.SetMetadata("attempt", attempt);
            try
            {
                var page = await web.FetchPageAsync(url, cancellationToken);
                tool.Output = page;
                return (page, attempt - 1);
            }
            catch (TimeoutException ex)
            {
                tool.RecordException(ex); // level ERROR, status message "TimeoutException: ..."
                tool.SetMetadata("reason", attempt < MaxAttempts ? "transient timeout, retrying" : "transient timeout, giving up");
            }

            // Back off before the next attempt (a real client would add jitter).
            await Task.Delay(RetryDelay, timeProvider, cancellationToken);
        }

        return (null, MaxAttempts);
    }
}
