namespace Langfuse.Agents; internal static class Placeholder { }
