using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Generators.Tests;

public sealed class ObserveGeneratorTests
{
    private const string AllShapes = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Langfuse.Agents;

        namespace Demo;

        public class Agent
        {
            [Observe] public static int Add(int a, int b) => a + b;
            [Observe] public void Log(string message) { }
            [Observe] private string Secret(string key) => key;
            [Observe] public T Echo<T>(T value) where T : notnull => value;
            [Observe] public static TOut Map<TIn, TOut>(TIn value, Func<TIn, TOut> map) where TOut : class, new() => map(value);
            [Observe] public Task RunAsync(CancellationToken cancellationToken) => Task.CompletedTask;
            [Observe] public async Task<string> AskAsync(string question, CancellationToken cancellationToken) { await Task.Yield(); return question; }
            [Observe] public ValueTask PingAsync() => default;
            [Observe] public ValueTask<int> CountAsync(int n) => new(n);
            [Observe] public async IAsyncEnumerable<string> StreamAsync(string prompt) { await Task.Yield(); yield return prompt; }
            [Observe] public bool TryParse(string text, out int value, ref int calls) { calls++; return int.TryParse(text, out value); }
            [Observe] protected virtual string Describe(string? @class) => @class ?? "";
            [Observe] public string Spanned(ReadOnlySpan<char> chars) => chars.ToString();

            public async Task UseAllAsync(CancellationToken ct)
            {
                var calls = 0;
                Add(1, 2);
                Log("x");
                Secret("k");
                Echo(42);
                Echo<string>("s");
                Map<int, List<int>>(1, _ => new List<int>());
                await RunAsync(ct);
                await AskAsync("q", ct);
                await PingAsync();
                await CountAsync(3);
                await foreach (var item in StreamAsync("p")) { }
                TryParse("1", out var value, ref calls);
                Describe(null);
                Spanned("abc".AsSpan());
            }
        }

        public static class Tools
        {
            [Observe(Name = "web_search", AsType = ObservationType.Tool)]
            public static string Search(this string query, int top) => query;

            [Observe] private static string Hidden(string text) => text;

            public static void Use() { "q".Search(3); Search("q", 3); Hidden("h"); }
        }

        public class Derived : Agent
        {
            protected override string Describe(string? @class) => base.Describe(@class);
        }
        """;

    [Fact]
    public void Generate_ForEveryReturnShapeAndAccessibility_CompilesWithoutErrorsOrWarnings()
    {
        var result = GeneratorHarness.Run(AllShapes);

        result.GeneratorDiagnostics.ShouldBeEmpty();
        result.CompileDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ShouldBeEmpty(result.Describe());
        using var assembly = new MemoryStream();
        result.Compilation.Emit(assembly).Success.ShouldBeTrue(result.Describe());
    }

    [Fact]
    public void Generate_InterceptsEveryDirectCall_ButNotBaseCalls()
    {
        var result = GeneratorHarness.Run(AllShapes);

        // 14 calls in UseAllAsync, 3 in Tools.Use; base.Describe(...) in Derived is left alone (it would recurse).
        result.InterceptedCalls.ShouldBe(17, result.Generated);
        var model = result.Compilation.GetSemanticModel(result.Compilation.SyntaxTrees.First());
        var baseCall = result.Compilation.SyntaxTrees.First().GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Single(i => i.Expression is MemberAccessExpressionSyntax { Expression: BaseExpressionSyntax });
        model.GetInterceptableLocation(baseCall)!.GetInterceptsLocationAttributeSyntax().ShouldNotBeNull();
        result.Generated.ShouldNotContain(model.GetInterceptableLocation(baseCall)!.Data);
    }

    [Fact]
    public void Generate_EachInterceptor_TargetsItsOwnCallSite()
    {
        var result = GeneratorHarness.Run(AllShapes);
        var tree = result.Compilation.SyntaxTrees.First();
        var model = result.Compilation.GetSemanticModel(tree);

        foreach (var invocation in tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>())
        {
            var name = invocation.Expression switch
            {
                MemberAccessExpressionSyntax access => access.Name.Identifier.Text,
                GenericNameSyntax generic => generic.Identifier.Text,
                IdentifierNameSyntax identifier => identifier.Identifier.Text,
                _ => null,
            };
            if (name is "Secret" or "AskAsync" or "Search" or "Hidden" && invocation.Expression is not MemberAccessExpressionSyntax { Expression: BaseExpressionSyntax })
            {
                var location = model.GetInterceptableLocation(invocation)!;
                var generated = result.Generated;
                var at = generated.IndexOf(location.Data, StringComparison.Ordinal);
                at.ShouldBeGreaterThan(0, $"{name} at {location.GetDisplayLocation()} is intercepted");
                var nextStart = generated.IndexOf(".Start(", at, StringComparison.Ordinal);
                var observed = name == "Search" ? "web_search" : name;
                generated.Substring(nextStart, 40).ShouldContain($"\"{observed}\"");
            }
        }
    }

    [Fact]
    public void Generate_Input_NamesArgumentsByParameter_WithoutCancellationTokensOrOutParameters()
    {
        var result = GeneratorHarness.Run(AllShapes);

        result.Generated.ShouldContain("[\"question\"] = question");
        result.Generated.ShouldContain("[\"a\"] = a, [\"b\"] = b");
        result.Generated.ShouldContain("[\"class\"] = @class");
        result.Generated.ShouldNotContain("[\"cancellationToken\"]");
        result.Generated.ShouldNotContain("[\"value\"] = value, [\"calls\"]");
        result.Generated.ShouldContain("{ [\"text\"] = text, [\"calls\"] = calls }");
        result.Generated.ShouldNotContain("[\"chars\"]", Case.Sensitive, "a ReadOnlySpan cannot be boxed into the input");
    }

    [Fact]
    public void Generate_HonoursNameTypeAndCaptureSettings()
    {
        var result = GeneratorHarness.Run("""
            using Langfuse.Agents;
            public static class Tools
            {
                [Observe(Name = "lookup", AsType = ObservationType.Retriever, CaptureInput = false, CaptureOutput = false)]
                public static string Find(string key) => key;
                public static void Use() => Find("k");
            }
            """);

        result.CompileDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ShouldBeEmpty(result.Describe());
        result.Generated.ShouldContain($"Start(\"lookup\", (global::Langfuse.Agents.ObservationType){(int)ObservationType.Retriever})");
        result.Generated.ShouldNotContain("SetInput");
        result.Generated.ShouldNotContain("Complete(");
    }

    [Fact]
    public void Generate_ForAMethodGroupConvertedToADelegate_WarnsLFA001()
    {
        var result = GeneratorHarness.Run("""
            using System;
            using System.Linq;
            using Langfuse.Agents;
            public static class Tools
            {
                [Observe] public static int Double(int x) => x * 2;
                public static void Use()
                {
                    Func<int, int> f = Double;
                    var all = new[] { 1, 2 }.Select(Double).ToArray();
                    var name = nameof(Double);
                    Double(1);
                }
            }
            """);

        var warnings = result.GeneratorDiagnostics.Where(d => d.Id == "LFA001").ToList();
        warnings.Count.ShouldBe(2);
        warnings.ShouldAllBe(d => d.Severity == DiagnosticSeverity.Warning);
        warnings[0].GetMessage(null).ShouldContain("Tools.Double(int)");
        warnings[0].GetMessage(null).ShouldContain("not traced");
        warnings[0].Location.GetLineSpan().StartLinePosition.Line.ShouldBe(8);
        result.InterceptedCalls.ShouldBe(1);
    }

    [Fact]
    public void Generate_ForACallItCannotRewrite_WarnsLFA002()
    {
        var result = GeneratorHarness.Run("""
            using Langfuse.Agents;
            public class Outer
            {
                private sealed class Hidden
                {
                    [Observe] public int Get() => 1;
                }
                public static int Use() => new Hidden().Get();
            }
            """);

        var warning = result.GeneratorDiagnostics.ShouldHaveSingleItem();
        warning.Id.ShouldBe("LFA002");
        warning.GetMessage(null).ShouldContain("not accessible");
        result.Generated.ShouldBeEmpty();
        result.CompileDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ShouldBeEmpty();
    }

    [Fact]
    public void Generate_InAProjectWithoutNullableAnnotations_CompilesWithoutWarnings()
    {
        var result = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using Langfuse.Agents;
            public class Legacy
            {
                [Observe] public Task<string> Get(string key) => Task.FromResult(key);
                public Task<string> Use() => Get("k");
            }
            """, NullableContextOptions.Disable);

        result.InterceptedCalls.ShouldBe(1);
        result.CompileDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ShouldBeEmpty(result.Describe());
    }
}
