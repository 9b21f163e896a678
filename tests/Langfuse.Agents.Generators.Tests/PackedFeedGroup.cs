using Xunit;

namespace Langfuse.Agents.Generators.Tests;

/// <summary>The tests that build apps against the packed packages share one pack.</summary>
[CollectionDefinition(Name)]
public sealed class PackedFeedGroup : ICollectionFixture<PackedFeed>
{
    public const string Name = "packed packages";
}
