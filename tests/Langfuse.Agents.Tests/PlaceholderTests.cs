namespace Langfuse.Agents.Tests; public class PlaceholderTests { [Xunit.Fact] public void Works() => Xunit.Assert.True(1 + 1 == 2); }
