namespace DistributedAgents;

/// <summary>What the coordinator asks the searcher.</summary>
internal sealed record SearchRequest(string Query);

/// <summary>What the searcher answers.</summary>
internal sealed record SearchResponse(IReadOnlyList<SearchHit> Hits);

/// <summary>One search result.</summary>
internal sealed record SearchHit(string Title, string Url, double Score);
