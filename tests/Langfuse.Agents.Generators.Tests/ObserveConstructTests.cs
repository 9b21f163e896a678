using System.Reflection;
using System.Runtime.Loader;
using Langfuse.Agents.Observe;
using Microsoft.CodeAnalysis;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Generators.Tests;

/// <summary>
/// The backbone of "never a broken generated file": for every C# construct an [Observe] method or its call can take,
/// the generator either intercepts the call with code that compiles with warnings as errors (and traces it when run),
/// or leaves the call alone and says why with a diagnostic. The snippet is compiled by the SDK's own compiler version.
/// </summary>
public sealed class ObserveConstructTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Diagnostics.CodeAnalysis;
        using System.Linq;
        using System.Runtime.CompilerServices;
        using System.Runtime.InteropServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Langfuse.Agents;

        """;

    /// <summary>
    /// One construct: the snippet, what the generator must do with it (diagnostic ids, in source order; number of
    /// intercepted calls), and, when the snippet has <c>Entry.Run()</c>, the observations a run records (by name, sorted).
    /// </summary>
    public sealed record Construct(string Name, string Source, string[] Diagnostics, int Intercepted, string[]? Traced = null, OutputKind Kind = OutputKind.DynamicallyLinkedLibrary)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Construct> Constructs() =>
    [
        // --- Where the attribute sits: only methods declared in a type can have their calls intercepted.
        new("local function in a top-level Program.cs (the old README example)", """
            Console.WriteLine(await ResearchAsync("q"));

            [Observe(AsType = ObservationType.Agent)]
            static async Task<string> ResearchAsync(string question)
            {
                var notes = await SearchAsync(question, limit: 3);
                return string.Join(",", notes);
            }

            [Observe(Name = "web_search", AsType = ObservationType.Tool)]
            static async Task<string[]> SearchAsync(string query, int limit, CancellationToken ct = default)
            {
                await Task.Yield();
                return [query];
            }
            """, ["LFA003", "LFA003"], 0, Kind: OutputKind.ConsoleApplication),
        new("local function inside a method", """
            public static class Entry
            {
                public static void Run()
                {
                    Local(1);
                    [Observe] static int Local(int x) => x;
                }
            }
            """, ["LFA003"], 0, []),
        new("lambda with the attribute", """
            public static class Entry
            {
                public static void Run()
                {
                    Func<int, int> twice = [Observe] (int x) => x * 2;
                    twice(2);
                }
            }
            """, ["LFA003"], 0, []),
        new("user-defined operator and conversion", """
            public readonly record struct Money(decimal Amount)
            {
                [Observe] public static Money operator +(Money a, Money b) => new(a.Amount + b.Amount);
                [Observe] public static implicit operator decimal(Money m) => m.Amount;
            }
            public static class Entry
            {
                public static void Run() { decimal total = new Money(1) + new Money(2); _ = total; }
            }
            """, ["LFA003", "LFA003"], 0, []),
        new("property accessor", """
            public sealed class Agent
            {
                public int Calls { [Observe] get => 1; }
            }
            """, ["LFA003"], 0),
        new("explicit interface implementation", """
            public interface ITool { int Run(int x); }
            public sealed class Tool : ITool
            {
                [Observe] int ITool.Run(int x) => x;
            }
            public static class Entry
            {
                public static void Run() => ((ITool)new Tool()).Run(1);
            }
            """, ["LFA003"], 0, []),
        new("finalizer", """
            public sealed class Agent
            {
                [Observe] ~Agent() { }
            }
            """, ["LFA003"], 0),

        // --- Call sites inside functions that are not methods: those calls are ordinary and intercepted.
        new("calls inside a lambda, an anonymous method and a local function", """
            public static class Tools
            {
                [Observe] public static int Double(int x) => x * 2;
            }
            public static class Entry
            {
                public static void Run()
                {
                    Func<int, int> lambda = x => Tools.Double(x);
                    Func<int, int> anonymous = delegate (int x) { return Tools.Double(x); };
                    lambda(1);
                    anonymous(2);
                    Local(3);
                    static int Local(int x) => Tools.Double(x);
                }
            }
            """, [], 3, ["Double", "Double", "Double"]),
        new("calls in top-level statements, a field initializer and a constructor initializer", """
            Tools.Double(1);
            public static class Tools
            {
                [Observe] public static int Double(int x) => x * 2;
            }
            public class Base { public Base(int x) { } }
            public class Derived : Base
            {
                private readonly int _field = Tools.Double(2);
                public Derived() : base(Tools.Double(3)) { _ = _field; }
            }
            """, [], 3, Kind: OutputKind.ConsoleApplication),

        // --- Types that generated code cannot name.
        new("method of a file-local type", """
            file static class Helpers
            {
                [Observe] public static int Count(int x) => x;
            }
            public static class Entry
            {
                public static void Run() => Helpers.Count(1);
            }
            """, ["LFA002"], 0, []),
        new("generic method called with a file-local type argument", """
            file sealed class Secret { }
            public static class Tools
            {
                [Observe] public static T Echo<T>(T value) => value;
            }
            public static class Entry
            {
                public static void Run() => Tools.Echo(new Secret());
            }
            """, [], 1, ["Echo"]),
        new("method of a generic type closed over an anonymous type", """
            public sealed class Box<T>(T value)
            {
                [Observe] public T Get() => value;
            }
            public static class Box
            {
                public static Box<T> Of<T>(T value) => new(value);
            }
            public static class Entry
            {
                public static void Run() => Box.Of(new { A = 1 }).Get();
            }
            """, ["LFA002"], 0, []),
        new("method of a type nested in an open generic type", """
            public class Outer<T>
            {
                public static class Inner
                {
                    [Observe] public static int Count() => 1;
                }
                public static int Use() => Inner.Count();
            }
            public static class Entry
            {
                public static void Run() => Outer<int>.Use();
            }
            """, ["LFA002"], 0, []),
        new("method of a generic type closed from outside", """
            public sealed class Cache<T>
            {
                [Observe] public static int Size() => 1;
                [Observe] public T Put(T value) => value;
            }
            public static class Entry
            {
                public static void Run() { Cache<string>.Size(); new Cache<int>().Put(1); }
            }
            """, [], 2, ["Put", "Size"]),
        new("type and method named with keywords", """
            public sealed class @event
            {
                [Observe] public static int @int(int @class) => @class;
            }
            public static class Entry
            {
                public static void Run() => @event.@int(1);
            }
            """, [], 1, ["int"]),

        // --- Receivers.
        new("struct, readonly struct and readonly member receivers, on locals, rvalues, readonly fields and this", """
            public struct Counter
            {
                private int _n;
                [Observe] public int Next() => ++_n;
                [Observe] public readonly int Peek() => _n;
                public int Twice() { Next(); return Next(); }
            }
            public readonly struct Point(int x)
            {
                [Observe] public int X() => x;
            }
            public sealed class Holder
            {
                public readonly Counter Frozen;
                public int Read() => Frozen.Peek() + Frozen.Next();
            }
            public static class Entry
            {
                public static void Run()
                {
                    var c = new Counter();
                    c.Next();
                    c.Peek();
                    c.Twice();
                    new Point(1).X();
                    new Holder().Read();
                }
            }
            """, [], 7, ["Next", "Next", "Next", "Next", "Peek", "Peek", "X"]),
        new("ref struct receiver", """
            public ref struct Cursor(ReadOnlySpan<char> text)
            {
                private readonly ReadOnlySpan<char> _text = text;
                private int _at;
                [Observe] public char Next() => _text[_at++];
            }
            public static class Entry
            {
                public static void Run() { var c = new Cursor("ab"); c.Next(); c.Next(); }
            }
            """, [], 2, ["Next", "Next"]),
        new("conditional access and nullable struct receivers", """
            public sealed class Agent { [Observe] public int Step() => 1; }
            public struct Tick { [Observe] public int Value() => 2; }
            public static class Entry
            {
                public static void Run()
                {
                    Agent? agent = new Agent();
                    Tick? tick = new Tick();
                    _ = agent?.Step();
                    _ = tick?.Value();
                }
            }
            """, [], 2, ["Step", "Value"]),
        new("interface instance method and default interface method", """
            public interface ITool
            {
                [Observe] int Run(int x);
                [Observe] int Twice(int x) => Run(x) * 2;
            }
            public sealed class Tool : ITool { public int Run(int x) => x; }
            public static class Entry
            {
                public static void Run() { ITool tool = new Tool(); tool.Twice(1); }
            }
            """, [], 2, ["Run", "Twice"]),

        // --- Parameters.
        new("params arrays, params spans and params collections", """
            public static class Tools
            {
                [Observe] public static int Count(params int[] values) => values.Length;
                [Observe] public static int Sum(params ReadOnlySpan<int> values) { var s = 0; foreach (var v in values) s += v; return s; }
                [Observe] public static int Words(params IEnumerable<string> words) => words.Count();
                [Observe] public static int Items(params List<string> items) => items.Count;
            }
            public static class Entry
            {
                public static void Run() { Tools.Count(1, 2); Tools.Sum(1, 2, 3); Tools.Sum(); Tools.Words("a", "b"); Tools.Items("a"); }
            }
            """, [], 5, ["Count", "Items", "Sum", "Sum", "Words"]),
        new("scoped, in, ref readonly, ref and out parameters", """
            public static class Tools
            {
                [Observe] public static int Length(scoped ReadOnlySpan<char> text) => text.Length;
                [Observe] public static void Bump(scoped ref int value) => value++;
                [Observe] public static int Read(in int value) => value;
                [Observe] public static int Look(ref readonly int value) => value;
                [Observe] public static int First(in ReadOnlySpan<int> values) => values[0];
                [Observe] public static bool TryGet(string key, [NotNullWhen(true)] out string? value) { value = key; return true; }
                [Observe] public static void Fill(ref Span<int> values) => values[0] = 1;
                [Observe] public static int Raw(int[] values, [UnscopedRef] out int first) { first = values[0]; return first; }
            }
            public static class Entry
            {
                public static void Run()
                {
                    var n = 1;
                    Span<int> span = stackalloc int[1];
                    ReadOnlySpan<int> values = [4];
                    Tools.Length("abc");
                    Tools.Bump(ref n);
                    Tools.Read(n);
                    Tools.Read(in n);
                    Tools.Look(in n);
                    Tools.Look(ref n);
                    Tools.First(values);
                    if (Tools.TryGet("k", out var v)) { _ = v.Length; }
                    Tools.Fill(ref span);
                    Tools.Raw([1], out _);
                }
            }
            """, [], 10, ["Bump", "Fill", "First", "Length", "Look", "Look", "Raw", "Read", "Read", "TryGet"]),
        new("default values of odd types and caller-info parameters", """
            public enum Mode { Fast = 1, Slow = 2 }
            public readonly record struct Window(int Size);
            public static class Tools
            {
                [Observe]
                public static string Defaults(
                    decimal price = 1.5m, double ratio = double.NaN, float big = float.PositiveInfinity, char c = '\0',
                    Mode mode = Mode.Slow, DateTime when = default, Window window = default, int? count = null,
                    string? text = null, nint native = -1, CancellationToken ct = default,
                    [CallerMemberName] string caller = "",
                    [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) => caller;
                [Observe]
                public static string Argument(int value, [CallerArgumentExpression(nameof(value))] string expression = "") => expression;
                [Observe]
                public static bool Missing([Optional] object? optional) => optional is not null;
            }
            public static class Entry
            {
                public static void Run()
                {
                    if (Tools.Defaults() != "Run") throw new InvalidOperationException("caller info lost");
                    Tools.Defaults(mode: Mode.Fast, price: 2m);
                    if (Tools.Argument(1 + 2) != "1 + 2") throw new InvalidOperationException("argument expression lost");
                    Tools.Missing();
                }
            }
            """, [], 4, ["Argument", "Defaults", "Defaults", "Missing"]),
        new("named arguments out of order and arguments with side effects", """
            public static class Tools
            {
                [Observe] public static int Minus(int a, int b) => a - b;
            }
            public static class Entry
            {
                public static void Run()
                {
                    var i = 0;
                    if (Tools.Minus(b: i++, a: i++) != 1) throw new InvalidOperationException("arguments reordered");
                }
            }
            """, [], 1, ["Minus"]),
        new("parameters named like the generated locals", """
            public sealed class Tools
            {
                [Observe] public int Clash(int __lf, int __self, int __result, int __e, int __type) => __lf + __self + __result + __e + __type;
                [Observe] public async Task<int> ClashAsync(int __lf, int __prev, int __result) { await Task.Yield(); return __lf + __prev + __result; }
                [Observe] private static int Hidden(int __type, int __lf) => __type + __lf;
                public static int UseHidden() => Hidden(1, 2);
            }
            public static class Entry
            {
                public static void Run() { new Tools().Clash(1, 2, 3, 4, 5); new Tools().ClashAsync(1, 2, 3).GetAwaiter().GetResult(); Tools.UseHidden(); }
            }
            """, [], 3, ["Clash", "ClashAsync", "Hidden"]),
        new("tuple, dynamic, nint and array-of-nullable types", """
            public static class Tools
            {
                [Observe] public static (int Count, string? Name) Pair((int A, int B) input, dynamic extra, nuint size, string?[] names) => (input.A, names[0]);
                [Observe] public static async Task<(int A, List<string?> B)> PairAsync(int[,] grid) { await Task.Yield(); return (grid.Length, [null]); }
            }
            public static class Entry
            {
                public static void Run() { Tools.Pair((1, 2), 3, 4, [null]); Tools.PairAsync(new int[1, 1]).GetAwaiter().GetResult(); }
            }
            """, [], 2, ["Pair", "PairAsync"]),

        // --- Generics.
        new("generic constraints of every kind", """
            public interface IShape { }
            public sealed class Square : IShape { }
            public static class Tools
            {
                [Observe] public static T Unmanaged<T>(T value) where T : unmanaged, IComparable<T> => value;
                [Observe] public static T Struct<T>(T value) where T : struct, IEquatable<T> => value;
                [Observe] public static T? NullableClass<T>(T? value) where T : class? => value;
                [Observe] public static T NotNull<T>(T value) where T : notnull => value;
                [Observe] public static T New<T>() where T : IShape, new() => new T();
                [Observe] public static TEnum Enum<TEnum>(TEnum value) where TEnum : struct, System.Enum => value;
                [Observe] public static TDelegate Del<TDelegate>(TDelegate value) where TDelegate : System.Delegate => value;
                [Observe] public static TOut Derived<TIn, TOut>(TOut value) where TOut : TIn => value;
                [Observe] public static T MaybeNull<T>(T? value) where T : IComparable<T>? => value!;
                [Observe] public static T? Unconstrained<T>(T value) => value;
                [Observe] public static int RefLike<T>(T value) where T : allows ref struct => 1;
                [Observe] public static T RefLikeBack<T>(T value) where T : allows ref struct => value;
            }
            public static class Entry
            {
                public static void Run()
                {
                    Tools.Unmanaged(1); Tools.Struct(2L); Tools.NullableClass<string>(null); Tools.NotNull("n");
                    Tools.New<Square>(); Tools.Enum(DayOfWeek.Monday); Tools.Del<Action>(() => { });
                    Tools.Derived<object, string>("s"); Tools.MaybeNull<string>("m"); Tools.Unconstrained(3);
                    Tools.RefLike<ReadOnlySpan<char>>("r"); Tools.RefLikeBack<ReadOnlySpan<char>>("r");
                }
            }
            """, [], 12, ["Del", "Derived", "Enum", "MaybeNull", "New", "NotNull", "NullableClass", "RefLike", "RefLikeBack", "Struct", "Unconstrained", "Unmanaged"]),
        new("nullable annotations: a #nullable disable region in an annotated project", """
            public static class Tools
            {
            #nullable disable
                [Observe] public static string Old(string text, List<string> items) => text + items.Count;
            #nullable restore
                [Observe] public static string? New(string? text) => text;
                [Observe] [return: MaybeNull] public static T Maybe<T>([AllowNull] T value) => value;
            }
            public static class Entry
            {
                public static void Run() { Tools.Old(null, []); Tools.New(null); Tools.Maybe<string>(null); }
            }
            """, [], 3, ["Maybe", "New", "Old"]),

        // --- Extension methods.
        new("extension methods: by value, ref, in, generic, called both ways", """
            public readonly struct Big(long value) { public long Value { get; } = value; }
            public static class Extensions
            {
                [Observe] public static int Words(this string text) => text.Split(' ').Length;
                [Observe] public static void Inc(this ref int value) => value++;
                [Observe] public static long Get(this in Big big) => big.Value;
                [Observe] public static T FirstOr<T>(this IEnumerable<T> items, T fallback) => items.DefaultIfEmpty(fallback).First();
            }
            public static class Entry
            {
                public static void Run()
                {
                    var n = 1;
                    var big = new Big(5);
                    "a b".Words(); Extensions.Words("c"); n.Inc(); big.Get(); new[] { 1 }.FirstOr(0);
                }
            }
            """, [], 5, ["FirstOr", "Get", "Inc", "Words", "Words"]),
        new("C# 14 extension block members", """
            public static class Extensions
            {
                extension(string text)
                {
                    [Observe] public int Letters() => text.Length;
                    [Observe] public static string Make(int n) => new('x', n);
                }
            }
            public static class Entry
            {
                public static void Run() { "abc".Letters(); string.Make(2); }
            }
            """, ["LFA002", "LFA002"], 0, []),

        // --- Interface statics, partial methods, odd method kinds.
        new("static abstract and static virtual interface members", """
            public interface IFactory<TSelf> where TSelf : IFactory<TSelf>
            {
                [Observe] static abstract TSelf Create();
            }
            public interface ICounter
            {
                [Observe] static abstract int Count();
                [Observe] static virtual int Default() => 0;
                [Observe] static int Helper() => 1;
            }
            public sealed class Widget : IFactory<Widget>, ICounter
            {
                public static Widget Create() => new();
                [Observe] public static int Count() => 2;
            }
            public static class Entry
            {
                static T Make<T>() where T : IFactory<T> => T.Create();
                static int Count<T>() where T : ICounter => T.Count() + T.Default();
                public static void Run() { Make<Widget>(); Count<Widget>(); ICounter.Helper(); Widget.Count(); }
            }
            """, ["LFA002", "LFA002", "LFA002"], 2, ["Count", "Helper"]),
        new("partial methods with and without an implementation", """
            public sealed partial class Agent
            {
                [Observe] partial void OnStep(int n);
                [Observe] private partial int Compute(int x);
                private partial int Compute(int x) => x * 2;
                public int Run() { OnStep(1); return Compute(2); }
            }
            public static class Entry
            {
                public static void Run() => new Agent().Run();
            }
            """, [], 1, ["Compute"]),
        new("varargs and extern methods", """
            public static class Native
            {
                [Observe] public static int Args(int n, __arglist) => n;
                [Observe] [DllImport("libc", EntryPoint = "getpid")] public static extern int GetPid();
                [Observe] [DllImport("libc", EntryPoint = "getppid")] private static extern int GetParent();
                public static int Use() => Args(1, __arglist(2, 3)) + GetPid() + GetParent();
            }
            """, ["LFA002", "LFA002"], 1),

        // --- Return kinds.
        new("async iterator with [EnumeratorCancellation], async void, custom awaitable", """
            public static class Tools
            {
                [Observe] public static async IAsyncEnumerable<int> Stream(int n, [EnumeratorCancellation] CancellationToken ct = default)
                {
                    // The token given to WithCancellation must reach the method through the observed stream.
                    if (!ct.CanBeCanceled) throw new InvalidOperationException("the enumerator's token did not arrive");
                    for (var i = 0; i < n; i++) { await Task.Yield(); yield return i; }
                }
                [Observe] public static async void Fire(int n) => await Task.Yield();
                [Observe] public static YieldAwaitable Later() => Task.Yield();
                [Observe] public static IEnumerable<int> Lazy(int n) { for (var i = 0; i < n; i++) yield return i; }
            }
            public static class Entry
            {
                public static void Run() => RunAsync().GetAwaiter().GetResult();
                private static async Task RunAsync()
                {
                    using var cts = new CancellationTokenSource();
                    await foreach (var i in Tools.Stream(2).WithCancellation(cts.Token)) { }
                    _ = Tools.Later();
                    Tools.Lazy(2).Sum();
                }
            }
            """, [], 3, ["Later", "Lazy", "Stream"]),
        new("returns by reference, ref structs, pointers and type parameters that allow ref structs", """
            public unsafe sealed class Buffer
            {
                private int _value;
                [Observe] public ref int Slot() => ref _value;
                [Observe] public ref readonly int View() => ref _value;
                [Observe] public Span<int> AsSpan() => new int[1];
                [Observe] public int* Pointer(int* p) => p;
                [Observe] public static T Id<T>(T value) where T : allows ref struct => value;
                public void Use(int* p) { Slot(); View(); AsSpan(); Pointer(p); Id<ReadOnlySpan<char>>("x"); Id(1); }
            }
            """, ["LFA002", "LFA002", "LFA002", "LFA002"], 2),

        // --- Attributes that change what calling the method means.
        new("obsolete and experimental methods, types and parameters", """
            [Obsolete("old")] public sealed class OldType { }
            public static class Tools
            {
                [Observe, Obsolete("use New")] public static int Old(int x) => x;
                [Observe, Obsolete("gone", error: true)] public static int Gone(int x) => x;
                [Observe, Obsolete("custom", DiagnosticId = "LFTEST1")] public static int Custom(int x) => x;
                [Observe, Experimental("LFTEST2")] public static int Trial(int x) => x;
                [Obsolete("old")] [Observe] public static int Takes(OldType old) => 1;
            }
            public static class Entry
            {
                [Obsolete("calls obsolete code on purpose")]
                public static void Run() { Tools.Old(1); Tools.Gone(2); Tools.Custom(3); Tools.Takes(new OldType()); }
            #pragma warning disable LFTEST2
                public static void Try() => Tools.Trial(4);
            #pragma warning restore LFTEST2
            }
            """, [], 5, ["Custom", "Gone", "Old", "Takes"]),
    ];

    [Theory]
    [MemberData(nameof(Constructs))]
    public void Construct_EitherCompilesCleanAndTraces_OrIsReported(Construct construct)
    {
        var result = GeneratorHarness.Run(Usings + construct.Source, outputKind: construct.Kind, assemblyName: AssemblyName(construct));

        result.Problems.ShouldBeEmpty(result.Describe());
        result.GeneratorDiagnostics.Select(d => d.Id).ShouldBe(construct.Diagnostics, result.Describe());
        result.GeneratorDiagnostics.ShouldAllBe(d => d.Severity == DiagnosticSeverity.Warning && d.Location.IsInSource);
        result.InterceptedCalls.ShouldBe(construct.Intercepted, result.Describe());

        using var image = new MemoryStream();
        var emit = result.Compilation.Emit(image);
        emit.Success.ShouldBeTrue(string.Join("\n", emit.Diagnostics) + "\n" + result.Describe());

        if (construct.Traced is { } expected)
        {
            Run(image, construct).ShouldBe([.. expected.Order(StringComparer.Ordinal)], result.Describe());
        }
    }

    [Fact]
    public void UnsupportedDeclaration_ReportsWhatToWriteInstead_AtTheAttribute()
    {
        var result = GeneratorHarness.Run(Usings + """
            await SearchAsync("q");

            [Observe(AsType = ObservationType.Tool)]
            static async Task<string> SearchAsync(string query) { await Task.Yield(); return query; }
            """, outputKind: OutputKind.ConsoleApplication);

        var warning = result.GeneratorDiagnostics.ShouldHaveSingleItem();
        warning.Id.ShouldBe("LFA003");
        var message = warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        message.ShouldContain("'SearchAsync(string)'");
        message.ShouldContain("local function");
        message.ShouldContain("method of a class");
        warning.Location.GetLineSpan().StartLinePosition.Line.ShouldBe(Usings.Split('\n').Length + 1, "on the [Observe] line");
        result.Generated.ShouldBeEmpty();
    }

    [Fact]
    public void ProjectWithoutTheInterceptorsNamespace_GetsOneDiagnostic_AndNoGeneratedFile()
    {
        var result = GeneratorHarness.Run(Usings + """
            public static class Tools
            {
                [Observe] public static int Double(int x) => x * 2;
                public static int Use() => Double(1) + Double(2);
            }
            """, parseOptions: GeneratorHarness.Parse(Microsoft.CodeAnalysis.CSharp.LanguageVersion.Latest, interceptorsEnabled: false));

        var warning = result.GeneratorDiagnostics.ShouldHaveSingleItem();
        warning.Id.ShouldBe("LFA004");
        warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture).ShouldContain("<InterceptorsNamespaces>$(InterceptorsNamespaces);Langfuse.Agents.Generated</InterceptorsNamespaces>");
        result.Generated.ShouldBeEmpty();
        result.Problems.ShouldBeEmpty(result.Describe());
    }

    [Fact]
    public void ProjectWithAnOldLanguageVersion_GetsOneDiagnostic_AndNoGeneratedFile()
    {
        var result = GeneratorHarness.Run(Usings.Replace("using System.Diagnostics.CodeAnalysis;\n", string.Empty, StringComparison.Ordinal) + """
            public static class Tools
            {
                [Observe] public static int Double(int x) => x * 2;
                public static int Use() => Double(1);
            }
            """, parseOptions: GeneratorHarness.Parse(Microsoft.CodeAnalysis.CSharp.LanguageVersion.CSharp10, interceptorsEnabled: true));

        var warning = result.GeneratorDiagnostics.ShouldHaveSingleItem();
        warning.Id.ShouldBe("LFA004");
        warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture).ShouldContain("C# 11");
        result.Generated.ShouldBeEmpty();
        result.Problems.ShouldBeEmpty(result.Describe());
    }

    private static string AssemblyName(Construct construct) =>
        "Snippet_" + new string([.. construct.Name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);

    /// <summary>Loads the compiled snippet, runs <c>Entry.Run()</c> with a capturing tracer, and names what it traced.</summary>
    private static string[] Run(MemoryStream image, Construct construct)
    {
        var context = new AssemblyLoadContext(construct.Name, isCollectible: true);
        var capture = new LangfuseCapture();
        var tracer = new LangfuseTracer(new LangfuseOptions { Capture = capture, BufferEnabled = false }, NullLoggerFactory.Instance);
        ObserveRuntime.TracerOverride = tracer;
        try
        {
            image.Position = 0;
            var entry = context.LoadFromStream(image).GetType("Entry", throwOnError: true)!;
            try
            {
                entry.GetMethod("Run", BindingFlags.Public | BindingFlags.Static)!.Invoke(null, null);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw new ShouldAssertException($"{construct.Name}: Entry.Run() threw {e.InnerException}");
            }

            return [.. capture.Observations.Select(o => o.Name).Order(StringComparer.Ordinal)];
        }
        finally
        {
            ObserveRuntime.TracerOverride = null;
            tracer.Dispose();
            context.Unload();
        }
    }
}
